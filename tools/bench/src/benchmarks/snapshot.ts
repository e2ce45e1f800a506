// The `snapshot` benchmark (issue 4): our streaming codec + object store against the `zstd` CLI on the same
// checkpoint-like file, in the same run, and a 100 MiB restore from a real S3-protocol server on loopback.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, open, rename, rm, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import {
  DEFAULT_COMPRESSION_THREADS,
  decodeToFile,
  encodeFile,
  type SnapshotFileEntry,
} from '@substrate/snapshot';
import {
  downloadSnapshot,
  newSnapshotPrefix,
  uploadSnapshot,
  type SnapshotMetadata,
} from '@substrate/snapshot-store';
import { openObjectStore, type ObjectStore } from '@substrate/storage';
import { startS3Server } from '@substrate/testing';

import { type BenchOptions, type BenchOutcome } from '../types';

const MiB = 1024 * 1024;
const FILE_SIZE = 256 * MiB;
const S3_FILE_SIZE = 100 * MiB;
const TARGET_RATIO = 0.8;
const TARGET_S3_RESTORE_MS = 300;
const ZSTD = process.env['ZSTD'] ?? 'zstd';

/** Shares of the 1 MiB pieces of the test file. */
const MIX = { zeros: 0.3, text: 0.4, random: 0.15, pages: 0.15 } as const;

/** mulberry32: a small seeded generator, so the file's layout is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Source text: the TypeScript compiler and its lib declarations (~14 MiB of JS and .d.ts). */
function textCorpus(): Buffer {
  const dir = join(require.resolve('typescript'), '..');
  const files = readdirSync(dir)
    .filter((f) => f === 'typescript.js' || (f.startsWith('lib.') && f.endsWith('.d.ts')))
    .sort();
  return Buffer.concat(files.map((f) => readFileSync(join(dir, f))));
}

function textSlice(corpus: Buffer, length: number, rand: () => number): Buffer {
  const start = Math.floor(rand() * (corpus.length - length));
  return corpus.subarray(start, start + length);
}

/**
 * Writes a checkpoint-like file of `size` bytes: 1 MiB pieces of zeros (unused memory), source text (heap
 * and page cache), random bytes (compressed or encrypted data) and 4 KiB pages mixing all three.
 */
async function writeTestFile(path: string, size: number, seed: number): Promise<void> {
  const corpus = textCorpus();
  const rand = prng(seed);
  const handle = await open(path, 'w');
  try {
    for (let offset = 0; offset < size; offset += MiB) {
      const r = rand();
      let piece: Buffer;
      if (r < MIX.zeros) piece = Buffer.alloc(MiB);
      else if (r < MIX.zeros + MIX.text) piece = textSlice(corpus, MiB, rand);
      else if (r < MIX.zeros + MIX.text + MIX.random) piece = randomBytes(MiB);
      else {
        piece = Buffer.alloc(MiB);
        for (let page = 0; page < MiB; page += 4096) {
          const p = rand();
          if (p < 0.4) continue;
          (p < 0.8 ? textSlice(corpus, 4096, rand) : randomBytes(4096)).copy(piece, page);
        }
      }
      await handle.write(piece, 0, piece.length, offset);
    }
  } finally {
    await handle.close();
  }
}

async function run(command: string, args: readonly string[], stdoutPath?: string): Promise<void> {
  const out = stdoutPath === undefined ? 'ignore' : await open(stdoutPath, 'w');
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(command, args, {
        stdio: ['ignore', out === 'ignore' ? 'ignore' : out.fd, 'inherit'],
      });
      child.on('error', reject);
      child.on('exit', (code, signal) =>
        code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')}: exit ${code ?? signal}`)),
      );
    });
  } finally {
    if (out !== 'ignore') await out.close();
  }
}

/** Flushes dirty pages left by the previous step, so no measurement pays for another's writes. */
const settle = (): Promise<void> => run('sync', []);

async function timed(fn: () => Promise<unknown>): Promise<number> {
  await settle();
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? NaN)
    : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

/** MB/s of Node's SHA-256 over 64 MiB in memory: what the codec pays per data byte, on its own thread. */
function sha256Throughput(): number {
  const data = randomBytes(64 * MiB);
  const start = process.hrtime.bigint();
  createHash('sha256').update(data).digest();
  return mbPerS(data.length, Number(process.hrtime.bigint() - start) / 1e6);
}

async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

const mbPerS = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);
const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

const METADATA: SnapshotMetadata = {
  sandboxClass: 'gvisor',
  scope: 'Full',
  assets: {
    runsc: {
      url: 'gs://gvisor/releases/release/20260622/x86_64/runsc',
      sha256: 'f18a948bf9c8bbb54eb998549a3a8d719a1c7de2efbe8fdd2ff0ee5fecd06f19',
    },
  },
};

/** Compress + upload with the mover: `pages.img` of `dir` as a new snapshot of `actor`; returns its prefix. */
async function compressUpload(
  store: ObjectStore,
  dir: string,
  actor: string,
): Promise<{ prefix: string; entry: SnapshotFileEntry }> {
  const prefix = newSnapshotPrefix(actor);
  const { manifest } = await uploadSnapshot(store, prefix, dir, ['pages.img'], { metadata: METADATA });
  const entry = manifest.files[0];
  if (entry === undefined) throw new Error('the manifest lists no file');
  return { prefix, entry };
}

/** Download + decompress + verify with the mover into `dest` (a fresh directory). */
async function downloadDecompress(store: ObjectStore, prefix: string, dest: string): Promise<void> {
  await downloadSnapshot(store, prefix, dest);
}

const discard = (): Writable =>
  new Writable({
    write: (_chunk, _encoding, callback) => callback(),
  });

async function zstdVersion(): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(ZSTD, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.on('close', () => resolve(/v[\d.]+/.exec(text)?.[0] ?? 'unknown'));
    child.on('error', () => resolve('unknown'));
  });
}

interface FileFigures {
  ours: { compress: number[]; decompress: number[] };
  cli: { compress: number[]; decompress: number[] };
  diag: {
    encodeOnly: number[];
    decodeNoFsync: number[];
    cliCompressFsync: number[];
    cliDecompressFsync: number[];
  };
  compressedSize: number;
  cliCompressedSize: number;
  dataBytes: number;
}

async function measureFile(dir: string, reps: number, log: BenchOptions['log']): Promise<FileFigures> {
  const input = join(dir, 'pages.img');
  log(`writing the ${FILE_SIZE / MiB} MiB test file`);
  await writeTestFile(input, FILE_SIZE, 4);
  const storeDir = join(dir, 'store');
  await mkdir(storeDir);
  const store = await openObjectStore(`file://${storeDir}`);
  const figures: FileFigures = {
    ours: { compress: [], decompress: [] },
    cli: { compress: [], decompress: [] },
    diag: { encodeOnly: [], decodeNoFsync: [], cliCompressFsync: [], cliDecompressFsync: [] },
    compressedSize: 0,
    cliCompressedSize: 0,
    dataBytes: 0,
  };
  try {
    // Warm-up (untimed), both directions: page cache holds the input, the native codec and the hash workers
    // are loaded.
    let snapshot = await compressUpload(store, dir, 'actor');
    await downloadDecompress(store, snapshot.prefix, join(dir, 'warm-up'));
    await rm(join(dir, 'warm-up'), { recursive: true });
    for (let rep = 0; rep < reps; rep++) {
      log(`repetition ${rep + 1}/${reps}`);
      await store.deletePrefix('actor/');
      figures.ours.compress.push(
        await timed(async () => {
          snapshot = await compressUpload(store, dir, 'actor');
        }),
      );
      const restored = join(dir, 'restored');
      figures.ours.decompress.push(await timed(() => downloadDecompress(store, snapshot.prefix, restored)));
      await rm(restored, { recursive: true });

      const cliOut = join(dir, 'pages.img.zst');
      const cliRestored = join(dir, 'cli-restored.img');
      figures.cli.compress.push(await timed(() => run(ZSTD, ['-1', '-q', '-c', input], cliOut)));
      figures.cli.decompress.push(await timed(() => run(ZSTD, ['-d', '-q', '-c', cliOut], cliRestored)));
      figures.cliCompressedSize = (await stat(cliOut)).size;
      // The CLI again, flushing its output (fsync) as the store's upload does, for a like-for-like comparison.
      await unlink(cliRestored);
      figures.diag.cliDecompressFsync.push(
        await timed(async () => {
          await run(ZSTD, ['-d', '-q', '-c', cliOut], cliRestored);
          await fsyncFile(cliRestored);
        }),
      );
      await unlink(cliOut);
      figures.diag.cliCompressFsync.push(
        await timed(async () => {
          await run(ZSTD, ['-1', '-q', '-c', input], cliOut);
          await fsyncFile(cliOut);
        }),
      );
      await unlink(cliOut);
      await unlink(cliRestored);

      // Where the time goes: the codec alone, without the store's or the restore's disk writes.
      figures.diag.encodeOnly.push(
        await timed(async () => {
          const encoded = encodeFile(input, { name: 'pages.img' });
          await pipeline(encoded.stream, discard());
          await encoded.entry;
        }),
      );
      const object = join(storeDir, snapshot.prefix, 'pages.img.zstd');
      const decoded = join(dir, 'decoded.img');
      figures.diag.decodeNoFsync.push(
        await timed(() => decodeToFile(createReadStream(object), snapshot.entry, decoded, { fsync: false })),
      );
      await unlink(decoded);
    }
    figures.compressedSize = snapshot.entry.compressedSize;
    figures.dataBytes = snapshot.entry.extents.reduce((sum, e) => sum + e.length, 0);
  } finally {
    await store.close();
  }
  return figures;
}

interface S3Figures {
  restore: number[];
  downloadOnly: number[];
  decodeOnly: number[];
  compressedSize: number;
}

async function measureS3Restore(dir: string, runs: number, log: BenchOptions['log']): Promise<S3Figures> {
  const input = join(dir, 'pages-100m.img');
  await writeTestFile(input, S3_FILE_SIZE, 7);
  log('starting versitygw on loopback');
  const server = await startS3Server({ buckets: ['bench'] });
  try {
    const store = await openObjectStore('s3://bench/snapshots', {
      s3: {
        endpoint: server.endpoint,
        region: server.region,
        credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
      },
    });
    try {
      const snapshotDir = join(dir, 's3-source');
      await mkdir(snapshotDir);
      await rename(input, join(snapshotDir, 'pages.img'));
      const { prefix, entry } = await compressUpload(store, snapshotDir, 'actor');
      const dest = join(dir, 's3-restored');
      const times: number[] = [];
      // One untimed restore first: the long-lived client of the mover has its connections open.
      for (let i = 0; i <= runs; i++) {
        const ms = await timed(() => downloadDecompress(store, prefix, dest));
        if (i > 0) times.push(ms);
        await rm(dest, { recursive: true });
      }
      log(`S3 restores (ms): ${times.map((t) => t.toFixed(0)).join(', ')}`);
      // Where the time goes: the download alone, and the decode alone from the server's own file.
      const downloadOnly: number[] = [];
      const decodeOnly: number[] = [];
      const key = `${prefix}/pages.img.zstd`;
      const object = join(server.dataDir, 'bench', 'snapshots', key);
      const decoded = join(dir, 's3-decoded.img');
      for (let i = 0; i < runs; i++) {
        downloadOnly.push(await timed(async () => pipeline(await store.get(key), discard())));
        decodeOnly.push(
          await timed(() => decodeToFile(createReadStream(object), entry, decoded, { fsync: false })),
        );
        await unlink(decoded);
      }
      return { restore: times, downloadOnly, decodeOnly, compressedSize: entry.compressedSize };
    } finally {
      await store.close();
    }
  } finally {
    await server.stop();
  }
}

export async function runSnapshot({ quick, log }: BenchOptions): Promise<BenchOutcome> {
  const reps = quick ? 1 : 7;
  const s3Runs = quick ? 3 : 5;
  const dir = await mkdtemp(join(tmpdir(), 'substrate-bench-snapshot-'));
  try {
    const file = await measureFile(dir, reps, log);
    const s3 = await measureS3Restore(dir, s3Runs, log);

    const ours = {
      compress: mbPerS(FILE_SIZE, median(file.ours.compress)),
      decompress: mbPerS(FILE_SIZE, median(file.ours.decompress)),
    };
    const cli = {
      compress: mbPerS(FILE_SIZE, median(file.cli.compress)),
      decompress: mbPerS(FILE_SIZE, median(file.cli.decompress)),
    };
    const ratio = Math.min(ours.compress / cli.compress, ours.decompress / cli.decompress);
    const s3Ms = median(s3.restore);
    const diag = {
      encode: mbPerS(FILE_SIZE, median(file.diag.encodeOnly)),
      decode: mbPerS(FILE_SIZE, median(file.diag.decodeNoFsync)),
      cliCompressFsync: mbPerS(FILE_SIZE, median(file.diag.cliCompressFsync)),
      cliDecompressFsync: mbPerS(FILE_SIZE, median(file.diag.cliDecompressFsync)),
    };
    const sha256 = sha256Throughput();
    const met = (ok: boolean): string => (ok ? 'met' : 'not met');
    const ratioOk = ratio >= TARGET_RATIO;
    const s3Ok = s3Ms < TARGET_S3_RESTORE_MS;
    const list = (values: readonly number[]): string => values.map((v) => v.toFixed(0)).join(', ');

    return {
      results: [
        { metric: 'snapshot.compress_upload_mb_s', value: round(ours.compress), unit: 'MB/s' },
        { metric: 'snapshot.download_decompress_mb_s', value: round(ours.decompress), unit: 'MB/s' },
        { metric: 'snapshot.pipeline_vs_cli_ratio', value: round(ratio, 2), unit: 'ratio' },
        { metric: 'snapshot.s3_restore_100mib_ms', value: round(s3Ms, 0), unit: 'ms' },
        { metric: 'ref.zstd_cli_compress_mb_s', value: round(cli.compress), unit: 'MB/s' },
        { metric: 'ref.zstd_cli_decompress_mb_s', value: round(cli.decompress), unit: 'MB/s' },
      ],
      verdict:
        `Targets: pipeline ≥ ${TARGET_RATIO.toFixed(2)} of the CLI's throughput on \`file://\` — ` +
        `${met(ratioOk)} (${ratio.toFixed(2)}); 100 MiB restore from S3 on loopback < ${TARGET_S3_RESTORE_MS} ms — ` +
        `${met(s3Ok)} (${s3Ms.toFixed(0)} ms).`,
      notes: [
        `Workload: a ${FILE_SIZE / MiB} MiB file of 1 MiB pieces — ${MIX.zeros * 100}% zeros, ${MIX.text * 100}% ` +
          `source text (TypeScript's compiler and lib .d.ts), ${MIX.random * 100}% random bytes, ` +
          `${MIX.pages * 100}% 4 KiB pages mixing the three — in a temp dir on the same disk as the outputs. ` +
          `No real runsc checkpoint image was available yet.`,
        `Our compressed object: ${(file.compressedSize / MiB).toFixed(1)} MiB (${(file.dataBytes / MiB).toFixed(0)} MiB ` +
          `of data extents, the rest stored as holes); \`zstd -1\` output: ${(file.cliCompressedSize / MiB).toFixed(1)} MiB. ` +
          `CLI: \`zstd\` ${await zstdVersion()}.`,
        `Method: median of ${reps} repetition(s) after an untimed warm-up; \`sync\` before every timed step so ` +
          `none pays for another's dirty pages. MB/s is raw (uncompressed) bytes per second.`,
        `compress_upload = the mover's \`uploadSnapshot\` of the one file into the \`file://\` store (\`encodeFile\` ` +
          `piped into \`store.put\`: temp file, fsync, rename, directory fsync; then \`manifest.json\` the same way); ` +
          `download_decompress = the mover's \`downloadSnapshot\` (manifest, \`store.get\` piped into ` +
          `\`decodeToFile\`: every integrity check before the rename; no fsync, as restore state is scratch space ` +
          `downloaded again after a crash). The CLI steps are \`zstd -1 -c in > out\` and \`zstd -d -c out > file\` ` +
          `and do not fsync. Times (ms) — ours: ${list(file.ours.compress)} / ${list(file.ours.decompress)}; ` +
          `CLI: ${list(file.cli.compress)} / ${list(file.cli.decompress)}.`,
        `Where the time goes (not targets): the codec alone encodes at ${diag.encode.toFixed(0)} MB/s into a ` +
          `discarding sink, and decodes a local object without fsync at ${diag.decode.toFixed(0)} MB/s. ` +
          `The CLI followed by an fsync of its output reaches ${diag.cliCompressFsync.toFixed(0)} / ` +
          `${diag.cliDecompressFsync.toFixed(0)} MB/s; our upload fsyncs like the former (ratio ` +
          `${(ours.compress / diag.cliCompressFsync).toFixed(2)}). Encoding runs zstd on ${DEFAULT_COMPRESSION_THREADS} ` +
          `worker threads of its own while the calling thread reads, finds holes and hashes: the data's SHA-256 ` +
          `(${sha256.toFixed(0)} MB/s in Node here, on a hash worker thread) and the object's CRC-32 and SHA-256. ` +
          `Decoding is zstd on the calling thread (it cannot be split) plus the SHA-256 of the compressed object on ` +
          `the hash thread — a third to a tenth of the bytes the data's SHA-256 would take; the CLI checks only ` +
          `zstd's XXH64. On 2 shared cores the figures move with whatever else runs: the worker threads only help ` +
          `when a core is free.`,
        `S3: versitygw (posix backend) via \`startS3Server\` on 127.0.0.1, the \`s3://\` adapter with its default ` +
          `settings; an encoded ${S3_FILE_SIZE / MiB} MiB file of the same mix, restored with \`downloadSnapshot\` ` +
          `${s3Runs} times after one untimed restore; times (ms): ${list(s3.restore)}. ` +
          `Object: ${(s3.compressedSize / MiB).toFixed(1)} MiB. Apart (medians): downloading it into a discarding ` +
          `sink takes ${median(s3.downloadOnly).toFixed(0)} ms, decoding it from the server's own file ` +
          `${median(s3.decodeOnly).toFixed(0)} ms; the restore pipelines the two on 2 cores shared with versitygw.`,
      ],
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
