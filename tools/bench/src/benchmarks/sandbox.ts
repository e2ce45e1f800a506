// The `sandbox` benchmark (issue 5): the counter actor in gVisor through a real ateom process (its gRPC
// service on a unix socket, real runsc, its network namespaces): cold boot → first answer, checkpoint
// (FULL), and restore → first answer, beside bare `runsc restore` of the same checkpoint image in the
// same run (tools/bench/src/lib/bare-runsc.ts), ours and bare alternating so that load hits both alike.
import { copyFileSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { COUNTER_DURABLE_DIR, COUNTER_PORT } from '@substrate/images';
import { ateom } from '@substrate/proto';
import { requireTool, tempDir } from '@substrate/testing';

import { CounterWorker, runscList, waitDeleted, type StartedRecord } from '../lib/ateom-worker';
import {
  BareRunsc,
  bareAddresses,
  pollFirstResponse,
  RUNSC_FLAGS,
  type FirstResponseProbe,
} from '../lib/bare-runsc';
import { percentile } from '../report';
import { type BenchOptions, type BenchOutcome, type BenchResult } from '../types';

const TARGET_RATIO = 1.15;
const FULL = ateom.SnapshotScope.SNAPSHOT_SCOPE_FULL;
const DATA = ateom.SnapshotScope.SNAPSHOT_SCOPE_DATA;

/** The counter's first answer, polled the same way after ours and after bare runsc. */
const COUNTER_PROBE: FirstResponseProbe = {
  port: COUNTER_PORT,
  path: '/',
  intervalMs: 1,
  attemptTimeoutMs: 2_000,
};

/** The global flags of the runsc sandbox process whose command line has `--root=<stateDir>`. */
function sandboxFlags(stateDir: string): string[] | undefined {
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let args: string[];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (args.includes(`--root=${stateDir}`) && args.includes('boot')) {
      return args.filter((arg) => RUNSC_FLAGS.some((flag) => arg.startsWith(flag.split('=')[0] + '=')));
    }
  }
  return undefined;
}

function dirBytes(dir: string, files: readonly string[]): number {
  let bytes = 0;
  for (const file of files) bytes += statSync(join(dir, file)).size;
  return bytes;
}

const round = (value: number, digits = 1): number => Number(value.toFixed(digits));
const list = (values: readonly number[]): string => values.map((v) => v.toFixed(0)).join(', ');

interface Figures {
  coldBoot: number[];
  checkpoint: number[];
  ours: number[];
  oursCall: number[];
  /** From ateom's `Actor restored` log line arriving to its RestoreWorkload answer arriving. */
  afterLog: number[];
  bare: number[];
  bareRunsc: number[];
  deletion: number[];
  runscImageBytes: number;
  durableBytes: number;
}

export async function runSandbox({ quick, log }: BenchOptions): Promise<BenchOutcome> {
  const cycles = quick ? 5 : 30;
  const suffix = (process.pid % 100_000).toString(36);
  const worker = `bs${suffix}`;
  const endpointIndex = 8_100 + (process.pid % 90);
  const dir = tempDir('bench-sandbox');
  const cleanups: (() => Promise<void> | void)[] = [() => dir.remove()];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) {
      try {
        await step();
      } catch (error) {
        log(`cleanup: ${String(error)}`);
      }
    }
  };
  try {
    const counterWorker = await CounterWorker.start({ dir: dir.path, name: worker, endpointIndex, log });
    cleanups.push(() => counterWorker.stop());
    const { client, endpoint, process: ateomProcess } = counterWorker;
    const { checkpointDir, restoreDir, ateomStateDir } = counterWorker.paths;

    const bare = await BareRunsc.open({
      runsc: requireTool('runsc'),
      workDir: join(dir.path, 'bare'),
      name: suffix.slice(0, 8),
      addresses: bareAddresses(process.pid % 4_096),
      tools: { ip: requireTool('ip'), unshare: requireTool('unshare'), nsenter: requireTool('nsenter') },
    });
    cleanups.push(() => bare.close());

    const figures: Figures = {
      coldBoot: [],
      checkpoint: [],
      ours: [],
      oursCall: [],
      afterLog: [],
      bare: [],
      bareRunsc: [],
      deletion: [],
      runscImageBytes: 0,
      durableBytes: 0,
    };
    let flagsChecked = false;
    let spec: unknown;
    const snapshots = join(dir.path, 'snapshots');

    // Cycle 0 is a warm-up (page cache, JIT, runsc's first start); its figures are dropped.
    for (let cycle = 0; cycle <= cycles; cycle++) {
      const keep = cycle > 0;
      const record = (into: number[], value: number): void => {
        if (keep) into.push(value);
      };
      log(`cycle ${cycle}/${cycles}${keep ? '' : ' (warm-up)'}`);

      // Cold boot: RunWorkload, then the counter's first answer.
      let began = performance.now();
      await client.run();
      const first = await pollFirstResponse(endpoint, COUNTER_PROBE);
      record(figures.coldBoot, first.at - began);
      if (!first.body.includes('preserved memory count: 1 ')) {
        throw new Error(`unexpected first answer after a cold boot: ${first.body}`);
      }
      if (spec === undefined) {
        // The OCI spec ateom wrote for this sandbox, found through runsc (one container: the counter).
        const [container, ...more] = runscList(ateomStateDir);
        if (container === undefined || more.length > 0)
          throw new Error("expected one container in ateom's sandbox");
        spec = JSON.parse(await readFile(join(container.bundle, 'config.json'), 'utf8')) as unknown;
      }
      if (!flagsChecked) {
        const flags = sandboxFlags(ateomStateDir);
        if (flags === undefined || RUNSC_FLAGS.some((flag) => !flags.includes(flag))) {
          throw new Error(
            `ateom's sandbox runs with ${JSON.stringify(flags)}, not the reference's ${JSON.stringify(RUNSC_FLAGS)}`,
          );
        }
        flagsChecked = true;
      }

      // Checkpoint (FULL), then atelet's part: the files out of checkpoint-state/ into a snapshot dir.
      began = performance.now();
      const { snapshotFiles } = await client.checkpoint(FULL);
      record(figures.checkpoint, performance.now() - began);
      const snapshot = join(snapshots, String(cycle));
      mkdirSync(snapshot, { recursive: true });
      for (const file of snapshotFiles) renameSync(join(checkpointDir, file), join(snapshot, file));
      const runscFiles = snapshotFiles.filter((file) => file !== 'durable-dirs.tar');
      figures.runscImageBytes = dirBytes(snapshot, runscFiles);
      figures.durableBytes = dirBytes(
        snapshot,
        snapshotFiles.filter((file) => file === 'durable-dirs.tar'),
      );
      record(figures.deletion, await waitDeleted(ateomStateDir));

      const ours = async () => {
        rmSync(restoreDir, { recursive: true, force: true });
        mkdirSync(restoreDir, { recursive: true });
        for (const file of snapshotFiles) copyFileSync(join(snapshot, file), join(restoreDir, file));
        const start = performance.now();
        await client.restore();
        const called = performance.now();
        const logged = ateomProcess.restoredAt.at(-1);
        if (logged !== undefined && logged >= start) record(figures.afterLog, called - logged);
        const answer = await pollFirstResponse(endpoint, COUNTER_PROBE);
        if (!answer.body.includes('preserved memory count: 2 ')) {
          throw new Error(`unexpected first answer after ateom's restore: ${answer.body}`);
        }
        record(figures.ours, answer.at - start);
        record(figures.oursCall, called - start);
        // Free the worker: a DATA checkpoint stops the sandbox, keeping only the durable dir.
        await client.checkpoint(DATA);
        await waitDeleted(ateomStateDir);
      };
      const reference = async () => {
        const timing = await bare.restoreFirstResponse({ imageDir: snapshot, spec, probe: COUNTER_PROBE });
        if (!timing.body.includes('preserved memory count: 2 ')) {
          throw new Error(`unexpected first answer after bare runsc restore: ${timing.body}`);
        }
        record(figures.bare, timing.firstResponseMs);
        record(figures.bareRunsc, timing.runscMs);
        await bare.deleteSandbox();
      };
      // Alternate which goes first, so that drifting load affects both alike.
      if (cycle % 2 === 0) {
        await ours();
        await reference();
      } else {
        await reference();
        await ours();
      }
      rmSync(snapshot, { recursive: true, force: true });
    }

    const ateomRssMb = ateomProcess.rssMb();
    // The transport's share: a call ateom refuses at once (a checkpoint of an idle worker).
    const refused: number[] = [];
    for (let i = 0; i < 10; i++) {
      const began = performance.now();
      const failed = await client.checkpoint(FULL).then(
        () => false,
        () => true,
      );
      if (!failed) throw new Error('a checkpoint of an idle worker succeeded');
      refused.push(performance.now() - began);
    }

    const restored = ateomProcess.restored.slice(-cycles);
    const mean = (values: readonly (number | undefined)[]) => {
      const defined = values.filter((v): v is number => v !== undefined);
      return defined.length === 0 ? Number.NaN : defined.reduce((a, b) => a + b, 0) / defined.length;
    };
    const p50 = (values: readonly number[]) => percentile(values, 50);
    const p95 = (values: readonly number[]) => percentile(values, 95);
    const ateomMean = (key: keyof StartedRecord) => mean(restored.map((r) => r[key]));
    const ratio = p50(figures.ours) / p50(figures.bare);
    const ratio95 = p95(figures.ours) / p95(figures.bare);
    const oursRunsc = restored.map((r) => r.runscMs).filter((v): v is number => v !== undefined);
    log(`ours (ms): ${list(figures.ours)}; runsc restore alone: ${list(oursRunsc)}`);
    log(`bare (ms): ${list(figures.bare)}; runsc restore alone: ${list(figures.bareRunsc)}`);

    const results: BenchResult[] = [
      { metric: 'sandbox.cold_boot_ms_p50', value: round(p50(figures.coldBoot)), unit: 'ms' },
      { metric: 'sandbox.checkpoint_ms_p50', value: round(p50(figures.checkpoint)), unit: 'ms' },
      { metric: 'sandbox.checkpoint_size_mb', value: round(figures.runscImageBytes / 1e6), unit: 'MB' },
      {
        metric: 'sandbox.restore_first_response_ms_p50',
        value: round(p50(figures.ours)),
        unit: 'ms',
      },
      {
        metric: 'sandbox.restore_first_response_ms_p95',
        value: round(p95(figures.ours)),
        unit: 'ms',
      },
      { metric: 'sandbox.restore_overhead_ratio', value: round(ratio, 2), unit: 'ratio' },
      { metric: 'ref.runsc_restore_first_response_ms_p50', value: round(p50(figures.bare)), unit: 'ms' },
      { metric: 'ref.runsc_restore_first_response_ms_p95', value: round(p95(figures.bare)), unit: 'ms' },
    ];
    const met = ratio <= TARGET_RATIO;
    const verdict =
      `Target: ateom's restore → first response ≤ ${TARGET_RATIO.toFixed(2)} × bare \`runsc restore\` → first ` +
      `response (p50) — ${met ? 'met' : 'not met'} (${ratio.toFixed(2)}: ${p50(figures.ours).toFixed(0)} ms ` +
      `against ${p50(figures.bare).toFixed(0)} ms; at p95 ${ratio95.toFixed(2)}).`;
    const notes = [
      `Workload: the counter actor image (\`tools/images\`, Node.js HTTP server, durable dir \`${COUNTER_DURABLE_DIR}\`), unpacked with umoci; runsc ${'0.0~20240729'} (\`${RUNSC_FLAGS.join(' ')}\`); ateom as its own process (\`node -r tools/scripts/swc-register.js apps/ateom/src/main.ts\`) with a forwarded worker endpoint, driven over its unix socket with the generated \`ateom.AteomClient\`. ${cycles} cycles after one warm-up cycle.`,
      `One cycle: RunWorkload (cold boot), CheckpointWorkload FULL, then the same checkpoint image restored by ateom (RestoreWorkload FULL; the snapshot files staged into \`restore-state/\` untimed, as atelet does) and by bare runsc, in alternating order; after each restore the sandbox is removed (ateom: a DATA checkpoint) and the benchmark waits until runsc has deleted it, so every restore starts on an idle worker.`,
      `First response: \`GET /\` on the counter, polled every ${COUNTER_PROBE.intervalMs} ms (attempt deadline ${COUNTER_PROBE.attemptTimeoutMs} ms) with a raw TCP client that resets the connection after the answer; ours is timed from the RestoreWorkload call to that answer (ateom's own readiness probe on \`/readyz\` ran in between), bare from the start of \`runsc restore --detach\` (its bundle written and the address set beforehand, untimed), polling once runsc has returned, as ateom does.`,
      `Bare reference (\`tools/bench/src/lib/bare-runsc.ts\`): its own network namespace and veth on a link-local /30, the bundle \`config.json\` ateom wrote for the run (network namespace path replaced), the same runsc binary and global flags (checked against the command line of ateom's sandbox process) and the same /proc/sys/net workaround when the kernel needs it.`,
      `Checkpoint image: ${round(figures.runscImageBytes / 1e6)} MB uncompressed as runsc writes it (\`--compression=none\`), plus ${round(figures.durableBytes / 1e3)} kB of durable-dir archive; checkpoint times (ms): p50 ${p50(figures.checkpoint).toFixed(0)}, p95 ${p95(figures.checkpoint).toFixed(0)}. Cold boot → first answer (ms): p50 ${p50(figures.coldBoot).toFixed(0)}, p95 ${p95(figures.coldBoot).toFixed(0)}.`,
      `Where ateom's restore time goes (means over the cycles, from ateom's \`Actor restored\` log record): the RestoreWorkload call took ${mean(figures.oursCall).toFixed(1)} ms — gRPC and request handling ${(mean(figures.oursCall) - ateomMean('totalMs')).toFixed(1)} ms (a call ateom refuses at once takes ${p50(refused).toFixed(1)} ms, p50; the answer arrived ${mean(figures.afterLog).toFixed(1)} ms after ateom's log line of the finished restore), durable-dir restore (tar) alongside the log pipes (mkfifo) ${ateomMean('setupMs').toFixed(1)} ms, the worker's bundle (its sandbox address was set ahead, after the previous sandbox's deletion) ${ateomMean('preparedMs').toFixed(1)} ms, \`runsc restore\` ${ateomMean('runscMs').toFixed(1)} ms, the readiness probe on \`/readyz\` ${ateomMean('readyMs').toFixed(1)} ms (${ateomMean('readyAttempts').toFixed(1)} attempts); then the first counter answer ${(mean(figures.ours) - mean(figures.oursCall)).toFixed(1)} ms. Bare: \`runsc restore\` exited after ${mean(figures.bareRunsc).toFixed(1)} ms, the first answer came at ${mean(figures.bare).toFixed(1)} ms. After runsc returned, ateom's probe and the counter request took ${(ateomMean('readyMs') + mean(figures.ours) - mean(figures.oursCall)).toFixed(1)} ms together, bare's first answer ${(mean(figures.bare) - mean(figures.bareRunsc)).toFixed(1)} ms: the first requests to a restored sandbox are slow, and ours makes two, one after the other (readiness, then the client's).`,
      `ateom's set-up runs \`tar\` and \`mkfifo\` as child processes: each spawn forks ateom's Node process (resident set ${ateomRssMb.toFixed(0)} MB after the run), whose cost grows with its size and with the machine's load; bare runsc has no such step (its sandbox uses ateom's durable dir as it is).`,
      `Per cycle (ms) — ours: ${list(figures.ours)}; bare: ${list(figures.bare)}. \`runsc restore\` alone, p50: ours ${p50(oursRunsc).toFixed(0)}, bare ${p50(figures.bareRunsc).toFixed(0)}.`,
      `After a checkpoint, runsc's deletion of the stopped sandbox took ${p50(figures.deletion).toFixed(0)} ms (p50) more; a restore on the same worker sooner than that waits for it (not in these figures).`,
    ];
    return { results, verdict, notes };
  } finally {
    await cleanup();
  }
}
