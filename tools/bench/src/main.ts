// Benchmark runner: `npm run bench -- <name> [--quick]`. Prints `RESULT <metric> <value> <unit>` lines on
// stdout (progress goes to stderr) and records the run as the `## <name>` section of docs/benchmarks.md.
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';

import { load1, machineInfo, renderSection, resultLine, upsertSection } from './report';
import { type BenchOptions, type BenchOutcome } from './types';

interface Entry {
  readonly name: string;
  readonly description: string;
  /** Loaded on demand: benchmarks import the workspace libraries, resolved through tsconfig paths. */
  readonly load: () => Promise<(options: BenchOptions) => Promise<BenchOutcome>>;
}

const BENCHMARKS: readonly Entry[] = [
  {
    name: 'snapshot',
    description: 'streaming zstd codec + object store vs the zstd CLI (issue 4)',
    load: async () => (await import('./benchmarks/snapshot')).runSnapshot,
  },
  {
    name: 'ateapi',
    description:
      'control-plane ops/s and latency over gRPC with a fake atelet; Redis bytes per actor (issue 3)',
    load: async () => (await import('./benchmarks/ateapi')).runAteapi,
  },
  {
    name: 'atenet',
    description:
      'router hot path vs direct to the worker (autocannon); wake of a suspended actor vs bare runsc restore (issue 6)',
    load: async () => (await import('./benchmarks/atenet')).runAtenet,
  },
  {
    name: 'sandbox',
    description:
      'counter actor through ateom: cold boot, checkpoint, restore → first answer vs bare runsc restore (issue 5)',
    load: async () => (await import('./benchmarks/sandbox')).runSandbox,
  },
];
const DOC = resolve(__dirname, '../../../docs/benchmarks.md');
const TSCONFIG = resolve(__dirname, '../tsconfig.json');

function usage(): string {
  return [
    'usage: npm run bench -- <name> [--quick]',
    'available benchmarks:',
    ...BENCHMARKS.map((b) => `  ${b.name}  ${b.description}`),
  ].join('\n');
}

/** Formats the document with the repository's prettier settings, so the recorded file is lint-clean. */
async function formatMarkdown(text: string): Promise<string> {
  const prettier = await import('prettier');
  const config = (await prettier.resolveConfig(DOC)) ?? {};
  return prettier.format(text, { ...config, filepath: DOC });
}

async function main(argv: readonly string[]): Promise<number> {
  const quick = argv.includes('--quick');
  const names = argv.filter((arg) => !arg.startsWith('--'));
  const bench = BENCHMARKS.find((b) => b.name === names[0]);
  if (names.length !== 1 || bench === undefined) {
    if (names[0] !== undefined) process.stderr.write(`unknown benchmark "${names[0]}"\n`);
    process.stderr.write(`${usage()}\n`);
    return 2;
  }
  const run = await bench.load();
  const date = new Date();
  const loadBefore = load1();
  const outcome = await run({
    quick,
    log: (message) => process.stderr.write(`[${bench.name}] ${message}\n`),
  });
  const loadAfter = load1();
  for (const result of outcome.results) process.stdout.write(`${resultLine(result)}\n`);

  const machine = machineInfo();
  const context = [
    `Load average (1 min): ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after` +
      (loadBefore > 0.5
        ? ` — other jobs were running on the machine, so the figures are lower and noisier than on an idle one`
        : ''),
    ...(quick ? ['Run with `--quick` (fewer repetitions): indicative only'] : []),
  ];
  const section = renderSection(bench.name, date, machine, outcome, context);
  const existing = await readFile(DOC, 'utf8').catch(() => undefined);
  await writeFile(DOC, await formatMarkdown(upsertSection(existing, bench.name, section)));
  process.stderr.write(`recorded in ${DOC}\n`);
  return 0;
}

if (process.env['TSX_TSCONFIG_PATH'] === undefined) {
  // Started as `tsx tools/bench/src/main.ts` from the repository root, where no tsconfig.json maps the
  // `@substrate/*` paths: run again under the same loader with this project's tsconfig.
  const child = spawnSync(process.execPath, [...process.execArgv, __filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, TSX_TSCONFIG_PATH: TSCONFIG },
  });
  process.exitCode = child.status ?? 1;
} else {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
