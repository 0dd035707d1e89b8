/**
 * Counters, gauges and histograms that cost a request almost nothing (docs/operations.md, "Metrics
 * on the request path"), written out in the Prometheus text format (0.0.4) only when /metrics is
 * scraped. A labelled child is a plain object the hot path keeps and bumps:
 * no label hashing, no allocation per observation. A child appears in the exposition from its first
 * update on, in the order of first updates (as prom-client prints them).
 */

/** A series of one metric: its label values (in the metric's label order) and what it counts. */
interface Child {
  readonly labelText: string;
  seen: boolean;
}

export interface CounterChild extends Child {
  value: number;
}

export interface HistogramChild extends Child {
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

interface Metric {
  /** The metric's lines, blank-line separated from the next one. */
  render(): string;
}

const escapeLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const escapeHelp = (value: string) => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function labelTextOf(names: readonly string[], values: readonly string[]): string {
  return names.map((name, index) => `${name}="${escapeLabel(values[index] ?? '')}"`).join(',');
}

/** Prometheus' float text: +Inf, -Inf, NaN, else JavaScript's shortest round-trip form. */
function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function header(name: string, help: string, type: string): string {
  return `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}`;
}

/** One registry per app: the metrics in registration order. */
export class TextRegistry {
  readonly #metrics: Metric[] = [];

  register(metric: Metric): void {
    this.#metrics.push(metric);
  }

  /** The exposition, each metric followed by a blank line. */
  text(): string {
    let out = '';
    for (const metric of this.#metrics) out += `${metric.render()}\n\n`;
    return out;
  }
}

function childrenTracker<C extends Child>(make: (labelText: string) => C) {
  const byKey = new Map<string, C>();
  const shown: C[] = [];
  return {
    shown,
    child(key: string, labelText: string): C {
      let child = byKey.get(key);
      if (child === undefined) {
        child = make(labelText);
        byKey.set(key, child);
      }
      return child;
    },
  };
}

/** A counter; with label names, one series per label values. Unlabelled, it is always shown (0 at first). */
export class TextCounter implements Metric {
  readonly #name: string;
  readonly #help: string;
  readonly #labelNames: readonly string[];
  readonly #children = childrenTracker<CounterChild>((labelText) => ({ labelText, seen: false, value: 0 }));
  readonly #unlabelled: CounterChild | null;

  constructor(registry: TextRegistry, name: string, help: string, labelNames: readonly string[] = []) {
    this.#name = name;
    this.#help = help;
    this.#labelNames = labelNames;
    this.#unlabelled = labelNames.length === 0 ? { labelText: '', seen: true, value: 0 } : null;
    registry.register(this);
  }

  /** The series of these label values, to keep and `add` to on the hot path. */
  labels(...values: string[]): CounterChild {
    return this.#children.child(values.join('\u0000'), labelTextOf(this.#labelNames, values));
  }

  /** Adds to the unlabelled series. */
  inc(amount = 1): void {
    if (this.#unlabelled === null) throw new Error(`${this.#name} has labels: use labels(…)`);
    this.#unlabelled.value += amount;
  }

  /** Adds to a series got from labels(). */
  add(child: CounterChild, amount = 1): void {
    child.value += amount;
    if (!child.seen) {
      child.seen = true;
      this.#children.shown.push(child);
    }
  }

  render(): string {
    let out = header(this.#name, this.#help, 'counter');
    if (this.#unlabelled !== null) out += `\n${this.#name} ${formatValue(this.#unlabelled.value)}`;
    for (const child of this.#children.shown) out += `\n${this.#name}{${child.labelText}} ${formatValue(child.value)}`;
    return out;
  }
}

/** An unlabelled gauge read at each scrape. */
export class TextGauge implements Metric {
  readonly #name: string;
  readonly #help: string;
  readonly #read: () => number;

  constructor(registry: TextRegistry, name: string, help: string, read: () => number) {
    this.#name = name;
    this.#help = help;
    this.#read = read;
    registry.register(this);
  }

  render(): string {
    return `${header(this.#name, this.#help, 'gauge')}\n${this.#name} ${formatValue(this.#read())}`;
  }
}

/** A labelled histogram with fixed upper bounds (ascending); +Inf is added. */
export class TextHistogram implements Metric {
  readonly #name: string;
  readonly #help: string;
  readonly #labelNames: readonly string[];
  readonly #bounds: readonly number[];
  readonly #children: ReturnType<typeof childrenTracker<HistogramChild>>;

  constructor(registry: TextRegistry, name: string, help: string, labelNames: readonly string[], bounds: readonly number[]) {
    this.#name = name;
    this.#help = help;
    this.#labelNames = labelNames;
    this.#bounds = bounds;
    this.#children = childrenTracker<HistogramChild>((labelText) => ({
      labelText,
      seen: false,
      counts: new Float64Array(bounds.length + 1),
      sum: 0,
      count: 0,
    }));
    registry.register(this);
  }

  labels(...values: string[]): HistogramChild {
    return this.#children.child(values.join('\u0000'), labelTextOf(this.#labelNames, values));
  }

  /** One observation into a series got from labels(): a bucket index found by a short scan, three additions. */
  observe(child: HistogramChild, value: number): void {
    const bounds = this.#bounds;
    let index = 0;
    while (index < bounds.length && value > (bounds[index] as number)) index++;
    child.counts[index] = (child.counts[index] as number) + 1;
    child.sum += value;
    child.count += 1;
    if (!child.seen) {
      child.seen = true;
      this.#children.shown.push(child);
    }
  }

  render(): string {
    const name = this.#name;
    let out = header(name, this.#help, 'histogram');
    for (const child of this.#children.shown) {
      const rest = child.labelText === '' ? '' : `,${child.labelText}`;
      const own = child.labelText === '' ? '' : `{${child.labelText}}`;
      let cumulative = 0;
      for (let index = 0; index <= this.#bounds.length; index++) {
        cumulative += child.counts[index] as number;
        const le = index < this.#bounds.length ? formatValue(this.#bounds[index] as number) : '+Inf';
        out += `\n${name}_bucket{le="${le}"${rest}} ${cumulative}`;
      }
      out += `\n${name}_sum${own} ${formatValue(child.sum)}\n${name}_count${own} ${child.count}`;
    }
    return out;
  }
}
