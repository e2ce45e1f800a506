import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, totalmem } from 'node:os';

import { type BenchOutcome, type BenchResult } from './types';

/** The machine a benchmark ran on, as recorded beside its figures. */
export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memory: string;
  readonly kernel: string;
  readonly node: string;
}

export function machineInfo(): MachineInfo {
  let cpuModel = 'unknown';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line !== undefined) cpuModel = line.slice(line.indexOf(':') + 1).trim();
  } catch {
    // not Linux: leave it unknown
  }
  return {
    cpus: availableParallelism(),
    cpuModel,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: release(),
    node: process.version,
  };
}

/** The 1-minute load average, to tell whether other work shared the machine. */
export function load1(): number {
  return loadavg()[0] ?? 0;
}

/**
 * The nearest-rank percentile `p` (0–100) of `values`: the smallest value with at least p% of the values
 * at or below it (p50 of an even count is the lower middle one). NaN when there are no values.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] ?? Number.NaN;
}

export function resultLine(result: BenchResult): string {
  return `RESULT ${result.metric} ${formatValue(result.value)} ${result.unit}`;
}

function formatValue(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(2);
}

/** Renders the `## <name>` section of docs/benchmarks.md for one run. */
export function renderSection(
  name: string,
  date: Date,
  machine: MachineInfo,
  outcome: BenchOutcome,
  context: readonly string[],
): string {
  const lines = [
    `## ${name}`,
    '',
    `- Date: ${date.toISOString()}`,
    `- Machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memory} RAM, Linux ${machine.kernel}`,
    `- Node: ${machine.node}`,
    ...context.map((line) => `- ${line}`),
    '',
    '| metric | value | unit |',
    '| ------ | ----- | ---- |',
    ...outcome.results.map((r) => `| \`${r.metric}\` | ${formatValue(r.value)} | ${r.unit} |`),
    '',
    outcome.verdict,
    '',
    ...outcome.notes.map((note) => `- ${note}`),
    '',
    '```',
    ...outcome.results.map(resultLine),
    '```',
  ];
  return lines.join('\n') + '\n';
}

const HEADER = `# Benchmarks

Written by \`npm run bench -- <name>\` (\`tools/bench\`): each section is the latest run of one benchmark,
with the reference (\`ref.*\`) measured on the same machine in the same run. MB is 10^6 bytes.
`;

/** Replaces the section `## <name>` of the document (or appends it), leaving the others as they are. */
export function upsertSection(document: string | undefined, name: string, section: string): string {
  const text = document === undefined || document.trim() === '' ? HEADER : document;
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line === `## ${name}`);
  if (start === -1) return `${text.trimEnd()}\n\n${section}`;
  let end = lines.findIndex((line, i) => i > start && line.startsWith('## '));
  if (end === -1) end = lines.length;
  const before = lines.slice(0, start).join('\n').trimEnd();
  const after = lines.slice(end).join('\n').trim();
  return `${before}\n\n${section}${after === '' ? '' : `\n${after}\n`}`;
}
