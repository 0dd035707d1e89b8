/**
 * Checked access for tests under noUncheckedIndexedAccess: the item or value, or a thrown error
 * that says what was missing (instead of a non-null assertion that would let undefined through).
 */
export function at<T>(items: readonly T[] | ArrayLike<T>, index: number): T {
  const item = items[index];
  if (item === undefined) throw new Error(`expected an item at index ${index} of ${items.length}`);
  return item;
}

export function defined<T>(value: T | null | undefined, what = 'a value'): T {
  if (value === undefined || value === null) throw new Error(`expected ${what}`);
  return value;
}
