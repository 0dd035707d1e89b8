/**
 * The metrics' own text format (src/http/prometheus-text.ts): what Prometheus parses, with
 * prom-client's conventions (buckets cumulative with `le` first, `+Inf`, series in the order of
 * their first update, a labelled series shown only once updated, an unlabelled counter always).
 */
import { describe, expect, it } from 'vitest';
import { TextCounter, TextGauge, TextHistogram, TextRegistry } from '../../src/http/prometheus-text.js';

describe('the Prometheus text of the app metrics', () => {
  it('writes counters, gauges and histograms with HELP and TYPE, a blank line after each', () => {
    const registry = new TextRegistry();
    const plain = new TextCounter(registry, 'a_total', 'Plain');
    const labelled = new TextCounter(registry, 'b_total', 'By kind', ['kind']);
    new TextGauge(registry, 'c', 'A gauge', () => 7);
    const histogram = new TextHistogram(registry, 'd_seconds', 'Durations', ['op'], [0.1, 1]);
    plain.inc();
    plain.inc(2);
    const second = labelled.labels('second');
    const first = labelled.labels('first');
    labelled.add(first);
    labelled.add(second, 5);
    labelled.add(first);
    const load = histogram.labels('load');
    histogram.observe(load, 0.1); // on the bound: in le="0.1"
    histogram.observe(load, 0.5);
    histogram.observe(load, 3);
    expect(registry.text()).toBe(
      [
        '# HELP a_total Plain',
        '# TYPE a_total counter',
        'a_total 3',
        '',
        '# HELP b_total By kind',
        '# TYPE b_total counter',
        'b_total{kind="first"} 2',
        'b_total{kind="second"} 5',
        '',
        '# HELP c A gauge',
        '# TYPE c gauge',
        'c 7',
        '',
        '# HELP d_seconds Durations',
        '# TYPE d_seconds histogram',
        'd_seconds_bucket{le="0.1",op="load"} 1',
        'd_seconds_bucket{le="1",op="load"} 2',
        'd_seconds_bucket{le="+Inf",op="load"} 3',
        'd_seconds_sum{op="load"} 3.6',
        'd_seconds_count{op="load"} 3',
        '',
        '',
      ].join('\n'),
    );
  });

  it('shows a labelled series only once updated, and escapes label values and help', () => {
    const registry = new TextRegistry();
    const errors = new TextCounter(registry, 'e_total', 'Back\\slash\nnewline', ['route']);
    errors.labels('never');
    expect(registry.text()).toBe('# HELP e_total Back\\\\slash\\nnewline\n# TYPE e_total counter\n\n');
    errors.add(errors.labels('say "hi"\\\n'));
    expect(registry.text()).toContain('e_total{route="say \\"hi\\"\\\\\\n"} 1');
  });

  it('refuses an unlabelled increment of a labelled counter', () => {
    const counter = new TextCounter(new TextRegistry(), 'f_total', 'F', ['x']);
    expect(() => counter.inc()).toThrow(/has labels/);
  });
});
