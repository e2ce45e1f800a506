import { ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import { openObjectStore, type ObjectStore, type ObjectStoreConfig } from '@substrate/storage';
import { describeWithComponents, jestStorage, tempDir } from '@substrate/testing';

import { MiB, METADATA, fileSha256, writeCheckpointSet } from '../../test/helpers';
import {
  collectSnapshots,
  downloadSnapshot,
  isSnapshotStoreError,
  latestCommittedSnapshot,
  listSnapshots,
  newSnapshotPrefix,
  uploadSnapshot,
} from '../index';

const HOUR = 60 * 60 * 1000;
const BIG_SET = 512 * MiB;
const unique = (): string => `t-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
const CHILD = resolve(__dirname, '../../test/upload-child.ts');
const TSCONFIG = resolve(__dirname, '../../tsconfig.json');

interface Backend {
  readonly name: string;
  readonly components: readonly string[];
  /** URI of a fresh, empty location, and the settings to open it with. */
  readonly location: (root: string) => { uri: string; config: ObjectStoreConfig };
  /**
   * How many multipart uploads the backend holds open under `prefix` of the location, asked beside the store
   * (no listing of the store shows them); only where the backend has such uploads.
   */
  readonly openUploads?: (uri: string, prefix: string) => Promise<number>;
}

/** Multipart uploads open under `prefix` of the `s3://bucket/base/` location, as versitygw reports them. */
async function openS3Uploads(uri: string, prefix: string): Promise<number> {
  const { s3 } = jestStorage();
  const [bucket = '', ...base] = uri.slice('s3://'.length).split('/');
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    forcePathStyle: true,
  });
  try {
    const out = await client.send(
      new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: `${base.join('/')}/${prefix}` }),
    );
    expect(out.IsTruncated).not.toBe(true);
    return out.Uploads?.length ?? 0;
  } finally {
    client.destroy();
  }
}

const timeouts = { connectMs: 2_000, operationMs: 30_000, idleMs: 30_000 };

const BACKENDS: readonly Backend[] = [
  {
    name: 'file://',
    components: [],
    location: (root) => ({ uri: `file://${root}/${unique()}`, config: {} }),
  },
  {
    name: 's3:// (versitygw)',
    components: ['versitygw'],
    location: () => {
      const { bucket, s3 } = jestStorage();
      return {
        uri: `s3://${bucket}/${unique()}`,
        config: {
          s3: {
            endpoint: s3.endpoint,
            region: s3.region,
            credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
            // The smallest part S3 allows: the uploader is killed well inside a multipart upload.
            partSizeBytes: 5 * MiB,
          },
          timeouts,
        },
      };
    },
    openUploads: openS3Uploads,
  },
  {
    name: 'gs:// (fake-gcs-server)',
    components: ['fake-gcs-server'],
    location: () => {
      const { bucket, gcs } = jestStorage();
      return {
        uri: `gs://${bucket}/${unique()}`,
        config: { gcs: { apiEndpoint: gcs.apiEndpoint, projectId: 'substrate-test' }, timeouts },
      };
    },
  },
];

/** Names of the files in `dir` that are not hidden temp files. */
async function visible(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => !name.startsWith('.')).sort();
}

async function expectSameFiles(names: readonly string[], from: string, to: string): Promise<void> {
  for (const name of names) {
    const [a, b] = await Promise.all([stat(join(from, name)), stat(join(to, name))]);
    expect(b.size).toBe(a.size);
    expect(await fileSha256(join(to, name))).toBe(await fileSha256(join(from, name)));
  }
}

/**
 * Runs the mover in a child process until it reports being half-way through the upload, then SIGKILLs it
 * (by its pid) and waits until it is gone.
 */
async function killUploadMidway(
  uri: string,
  config: ObjectStoreConfig,
  prefix: string,
  dir: string,
  names: readonly string[],
): Promise<void> {
  // tsx as a loader of this one process: its CLI would run the script in a second process, which the kill
  // would not reach.
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, uri, prefix, dir, ...names], {
    env: { ...process.env, TSX_TSCONFIG_PATH: TSCONFIG, SNAPSHOT_CHILD_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<NodeJS.Signals | number | null>((done) =>
    child.once('exit', (code, signal) => done(signal ?? code)),
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const midway = await new Promise<boolean>((done) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('MIDWAY\n')) done(true);
    });
    void exited.then(() => done(false));
  });
  if (!midway) throw new Error(`the uploader ended before it was half-way:\n${stderr}`);
  const pid = child.pid;
  if (pid === undefined) throw new Error('the uploader has no pid');
  process.kill(pid, 'SIGKILL');
  expect(await exited).toBe('SIGKILL');
}

describe('snapshot mover against real stores on loopback', () => {
  let root: ReturnType<typeof tempDir> | undefined;
  let work = '';
  let bigSet: string[] = [];
  let smallSet: string[] = [];

  beforeAll(async () => {
    root = tempDir('snapshot-store');
    work = root.path;
    await mkdir(join(work, 'big'));
    await mkdir(join(work, 'small'));
    await mkdir(join(work, 'stores'));
    bigSet = await writeCheckpointSet(join(work, 'big'), BIG_SET, 11);
    smallSet = await writeCheckpointSet(join(work, 'small'), 8 * MiB, 12);
  });
  afterAll(() => root?.remove());

  for (const backend of BACKENDS) {
    describeWithComponents(backend.components, backend.name, () => {
      let store: ObjectStore;
      let uri = '';
      let config: ObjectStoreConfig = {};

      beforeEach(async () => {
        ({ uri, config } = backend.location(join(work, 'stores')));
        store = await openObjectStore(uri, config);
      });
      afterEach(async () => {
        await store.close();
        await rm(join(work, 'restore'), { recursive: true, force: true });
      });

      it('uploads and downloads a 512 MiB sparse checkpoint-like file set, byte-identical', async () => {
        const prefix = newSnapshotPrefix('actor-big');
        const uploaded = await uploadSnapshot(store, prefix, join(work, 'big'), bigSet, {
          metadata: METADATA,
        });
        expect(uploaded.manifest.files.reduce((sum, f) => sum + f.rawSize, 0)).toBe(BIG_SET);
        const dest = join(work, 'restore');
        const downloaded = await downloadSnapshot(store, prefix, dest);
        expect(downloaded.files.map((f) => f.name)).toEqual(bigSet);
        expect(await visible(dest)).toEqual([...bigSet].sort());
        await expectSameFiles(bigSet, join(work, 'big'), dest);
        // The memory image comes back sparse: only its data extents take disk space.
        const pages = await stat(join(dest, 'pages.img'));
        expect(pages.blocks * 512).toBeLessThan(pages.size / 2);
      });

      it('survives an uploader killed mid-way: the previous snapshot restores, the partial one is ignored and later collected', async () => {
        const previous = newSnapshotPrefix('actor-crash');
        await uploadSnapshot(store, previous, join(work, 'small'), smallSet, { metadata: METADATA });

        const partial = newSnapshotPrefix('actor-crash');
        await killUploadMidway(uri, config, partial, join(work, 'big'), bigSet);

        // Readers see only the committed snapshot.
        expect((await latestCommittedSnapshot(store, '', 'actor-crash'))?.prefix).toBe(previous);
        const dest = join(work, 'restore');
        await downloadSnapshot(store, previous, dest);
        await expectSameFiles(smallSet, join(work, 'small'), dest);
        const error: unknown = await downloadSnapshot(store, partial, join(work, 'restore-partial')).catch(
          (e: unknown) => e,
        );
        expect(isSnapshotStoreError(error, 'SNAPSHOT_NOT_FOUND')).toBe(true);

        // The partial upload is there (its first file was stored), uncommitted.
        const listed = await listSnapshots(store, '', { actorId: 'actor-crash' });
        expect(listed.map((s) => [s.prefix, s.committed])).toEqual([
          [previous, true],
          [partial, false],
        ]);

        // Within the grace period GC leaves it (it could be an upload in progress); after it, GC removes it,
        // and aborts the upload the kill cut off (on S3 a multipart upload holding the parts it stored, which
        // no listing shows; on file:// the temp file).
        const early = await collectSnapshots(store, '', { orphanGraceMs: HOUR });
        expect(early).toMatchObject({ deleted: [], abortedUploads: 0 });
        const openBefore = await backend.openUploads?.(uri, `${partial}/`);
        if (backend.openUploads !== undefined) expect(openBefore).toBe(1); // the file in flight (concurrency 1)
        const later = await collectSnapshots(store, '', {
          orphanGraceMs: HOUR,
          now: new Date(Date.now() + 2 * HOUR),
        });
        expect(later.deleted.map((s) => [s.prefix, s.reason])).toEqual([[partial, 'orphaned']]);
        expect(later.bytesFreed).toBeGreaterThan(0);
        expect(later.failures).toEqual([]);
        // gs://: resumable sessions cannot be listed (Cloud Storage drops unfinished ones after a week).
        expect(later.abortedUploads).toBe(backend.name.startsWith('gs://') ? 0 : 1);
        if (backend.openUploads !== undefined) expect(await backend.openUploads(uri, '')).toBe(0);
        expect((await listSnapshots(store, '')).map((s) => s.prefix)).toEqual([previous]);
        if (backend.name === 'file://') {
          // Nothing is left on disk of the partial snapshot, not even the killed upload's temp file.
          const actorDir = join(uri.slice('file://'.length), 'actor-crash');
          expect(await readdir(actorDir)).toEqual([previous.split('/')[1]]);
        }
      });
    });
  }
});
