import { percentile, renderSection, resultLine, upsertSection, type MachineInfo } from './report';
import { type BenchOutcome } from './types';

const machine: MachineInfo = {
  cpus: 2,
  cpuModel: 'Test CPU',
  memory: '4.0 GiB',
  kernel: '6.1.0',
  node: 'v20.0.0',
};

const outcome: BenchOutcome = {
  results: [
    { metric: 'x.speed_mb_s', value: 123.456, unit: 'MB/s' },
    { metric: 'x.ratio', value: 0.8123, unit: 'ratio' },
    { metric: 'ref.count', value: 7, unit: 'ops' },
  ],
  verdict: 'Target: ratio ≥ 0.80 — met.',
  notes: ['one note'],
};

describe('percentile', () => {
  it('takes the nearest rank, whatever the order of the values', () => {
    const values = [9, 1, 5, 3, 7, 2, 8, 4, 10, 6];
    expect(percentile(values, 50)).toBe(5);
    expect(percentile(values, 95)).toBe(10);
    expect(percentile(values, 90)).toBe(9);
    expect(percentile(values, 0)).toBe(1);
    expect(percentile([42], 95)).toBe(42);
    expect(values).toEqual([9, 1, 5, 3, 7, 2, 8, 4, 10, 6]);
  });

  it('is NaN without values', () => {
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('resultLine', () => {
  it('prints RESULT <metric> <value> <unit>', () => {
    expect(outcome.results.map(resultLine)).toEqual([
      'RESULT x.speed_mb_s 123 MB/s',
      'RESULT x.ratio 0.81 ratio',
      'RESULT ref.count 7 ops',
    ]);
  });
});

describe('renderSection', () => {
  it('holds the heading, date, machine, table, verdict and RESULT lines', () => {
    const text = renderSection('x', new Date('2026-01-02T03:04:05.000Z'), machine, outcome, ['Load: low']);
    expect(text.startsWith('## x\n')).toBe(true);
    expect(text).toContain('- Date: 2026-01-02T03:04:05.000Z');
    expect(text).toContain('- Machine: 2 CPUs (Test CPU), 4.0 GiB RAM, Linux 6.1.0');
    expect(text).toContain('- Node: v20.0.0');
    expect(text).toContain('- Load: low');
    expect(text).toContain('| `x.ratio` | 0.81 | ratio |');
    expect(text).toContain('Target: ratio ≥ 0.80 — met.');
    expect(text).toContain('RESULT ref.count 7 ops');
  });
});

describe('upsertSection', () => {
  it('starts a new document with the header', () => {
    const doc = upsertSection(undefined, 'a', '## a\n\nfirst\n');
    expect(doc.startsWith('# Benchmarks\n')).toBe(true);
    expect(doc.endsWith('## a\n\nfirst\n')).toBe(true);
  });

  it('appends a new benchmark and replaces an existing one, leaving the others', () => {
    let doc = upsertSection(undefined, 'a', '## a\n\nfirst a\n');
    doc = upsertSection(doc, 'b', '## b\n\nfirst b\n');
    doc = upsertSection(doc, 'a', '## a\n\nsecond a\n');
    expect(doc).not.toContain('first a');
    expect(doc).toContain('second a');
    expect(doc).toContain('first b');
    expect(doc.indexOf('## a')).toBeLessThan(doc.indexOf('## b'));
    expect(doc.match(/^## a$/gm)).toHaveLength(1);
  });

  it('does not mistake a longer name for the section', () => {
    const doc = upsertSection(undefined, 'snapshot-s3', '## snapshot-s3\n\nother\n');
    const updated = upsertSection(doc, 'snapshot', '## snapshot\n\nmine\n');
    expect(updated).toContain('other');
    expect(updated).toContain('mine');
  });
});
