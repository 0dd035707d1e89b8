/**
 * The due set's part of the storage contract (docs/design.md §13): every driver's `dueSet` keeps
 * instants, claims with a lease that another claimer takes over once it runs out, and releases only
 * a lease still held. The set is shared by the whole store, so each test works in an instant range
 * of its own, far from any other suite's, and looks only at its own pets.
 */
import { describe, expect, it } from 'vitest';
import type { StorageDriver } from '../../src/storage/index.js';

let run = 0;

export function describeDueSetContract(
  drivers: () => { driver: StorageDriver; create: () => Promise<StorageDriver> },
  petId: (label: string) => string,
): void {
  describe('due set (docs/design.md §13)', () => {
    /** A range of instants no other test or suite uses: claims elsewhere never reach it first. */
    const range = (): number => 1_000_000_000_000 + (Date.now() % 1_000_000) * 1_000_000 + (run++ % 1000) * 1000;
    const mine = (claims: { petId: string }[], ids: string[]) => claims.filter((c) => ids.includes(c.petId));

    it('schedules, reports, moves earlier only, and takes pets out', async () => {
      const due = drivers().driver.dueSet;
      if (due === undefined) throw new Error('the driver has no due set');
      const [a, b] = [petId('due-a'), petId('due-b')];
      const base = range();
      await due.schedule(a, base + 500);
      expect(await due.instantOf(a)).toBe(base + 500);
      expect(await due.instantOf(b)).toBeNull();
      expect(await due.hasten(a, base + 700)).toBe(false);
      expect(await due.hasten(a, base + 300)).toBe(true);
      expect(await due.instantOf(a)).toBe(base + 300);
      // A pet whose instant is within the threshold (e.g. one being worked on under a lease) stays.
      expect(await due.hasten(a, base + 100, base + 300)).toBe(false);
      expect(await due.hasten(a, base + 100, base + 299)).toBe(true);
      expect(await due.instantOf(a)).toBe(base + 100);
      expect(await due.hasten(b, base + 100)).toBe(false);
      expect(await due.instantOf(b)).toBeNull();
      const before = await due.size();
      await due.schedule(b, base + 900);
      expect(await due.size()).toBeGreaterThanOrEqual(before + 1);
      await due.unschedule(a);
      await due.unschedule(b);
      expect(await due.instantOf(a)).toBeNull();
    });

    it('claims what is due, earliest first, with a lease another claimer takes over when it runs out', async () => {
      const { driver, create } = drivers();
      const other = (await create()).dueSet;
      const due = driver.dueSet;
      if (due === undefined || other === undefined) throw new Error('the driver has no due set');
      const base = range();
      const ids = [petId('due-1'), petId('due-2'), petId('due-3')];
      await due.schedule(ids[0] as string, base + 20);
      await due.schedule(ids[1] as string, base + 10);
      await due.schedule(ids[2] as string, base + 999);
      const first = mine(await due.claim(base + 50, 100, 100), ids);
      expect(first.map((c) => c.petId)).toEqual([ids[1], ids[0]]);
      expect(first[0]).toMatchObject({ dueMs: base + 10, leaseUntilMs: base + 150 });
      expect(await due.instantOf(ids[0] as string)).toBe(base + 150);
      // Held: nobody else gets them before the lease ends.
      expect(mine(await other.claim(base + 149, 100, 100), ids)).toEqual([]);
      // The claimer died: after the lease, another instance takes them over.
      const taken = mine(await other.claim(base + 150, 100, 100), ids);
      expect(taken.map((c) => c.petId).sort()).toEqual([ids[0], ids[1]].sort());
      // The first claimer's release no longer holds; the new one's does.
      expect(await due.release(ids[0] as string, base + 150, base + 5000)).toBe(false);
      expect(await other.release(ids[0] as string, base + 250, base + 5000)).toBe(true);
      expect(await due.instantOf(ids[0] as string)).toBe(base + 5000);
      expect(await other.release(ids[1] as string, base + 250, null)).toBe(true);
      expect(await due.instantOf(ids[1] as string)).toBeNull();
      await due.unschedule(ids[0] as string);
      await due.unschedule(ids[2] as string);
    });

    it('two claimers at once never take the same pet', async () => {
      const { driver, create } = drivers();
      const other = (await create()).dueSet;
      const due = driver.dueSet;
      if (due === undefined || other === undefined) throw new Error('the driver has no due set');
      const base = range();
      const ids = Array.from({ length: 20 }, (_, n) => petId(`due-race-${n}`));
      for (const [n, id] of ids.entries()) await due.schedule(id, base + n);
      const [x, y] = await Promise.all([due.claim(base + 100, 1000, 100), other.claim(base + 100, 1000, 100)]);
      const claimed = [...mine(x, ids), ...mine(y, ids)].map((c) => c.petId).sort();
      expect(claimed).toEqual([...ids].sort());
      for (const id of ids) await due.unschedule(id);
    });

    it('refuses bad arguments before any I/O', async () => {
      const due = drivers().driver.dueSet;
      if (due === undefined) throw new Error('the driver has no due set');
      await expect(due.schedule('a:b', 1)).rejects.toThrow();
      await expect(due.schedule(petId('due-bad'), -1)).rejects.toThrow(TypeError);
      await expect(due.claim(1, 0, 1)).rejects.toThrow(TypeError);
    });
  });
}
