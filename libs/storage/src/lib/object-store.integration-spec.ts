import {
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer, type Server as HttpServer, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describeWithComponents, jestStorage, tempDir } from '@substrate/testing';
import { objectStoreContract, type IncompleteUploads } from '../../test/object-store-contract';
import {
  isStorageError,
  openObjectStore,
  parseStorageUri,
  type ObjectStore,
  type ObjectStoreConfig,
} from '../index';
import { TEMP_MARKER } from './file-store';

const MiB = 1024 * 1024;
const unique = () => `t-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;

function s3Config(extra: Partial<ObjectStoreConfig> = {}): ObjectStoreConfig {
  const { s3 } = jestStorage();
  return {
    s3: {
      endpoint: s3.endpoint,
      region: s3.region,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      partSizeBytes: 5 * MiB,
      maxAttempts: 2,
    },
    timeouts: { connectMs: 2_000, operationMs: 10_000, idleMs: 10_000 },
    ...extra,
  };
}

function gcsConfig(extra: Partial<ObjectStoreConfig> = {}): ObjectStoreConfig {
  return {
    gcs: {
      apiEndpoint: jestStorage().gcs.apiEndpoint,
      projectId: 'substrate-test',
      resumableThresholdBytes: 4 * MiB,
      chunkSizeBytes: 8 * MiB, // several requests per resumable session,
    },
    timeouts: { connectMs: 2_000, operationMs: 10_000, idleMs: 10_000 },
    ...extra,
  };
}

/** The directory of a `file://` store and the key prefix of an `s3://` one. */
function locationOf(store: ObjectStore): { path: string; bucket: string; prefix: string } {
  const location = parseStorageUri(store.uri);
  return location.scheme === 'file'
    ? { path: location.path, bucket: '', prefix: '' }
    : { path: '', bucket: location.bucket, prefix: location.prefix };
}

/** A killed writer leaves its temp file (never renamed over the target) in the target's directory. */
const fileUploads: IncompleteUploads = {
  async start(store, key) {
    const dir = join(locationOf(store).path, key, '..');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `${TEMP_MARKER}${randomBytes(8).toString('hex')}`), randomBytes(4096));
  },
  async count(store, prefix) {
    const base = locationOf(store).path;
    const entries = await readdir(base, { recursive: true, withFileTypes: true }).catch(() => []);
    return entries.filter(
      (e) =>
        e.isFile() &&
        e.name.startsWith(TEMP_MARKER) &&
        `${join(e.parentPath, e.name).slice(base.length + 1)}`.startsWith(prefix),
    ).length;
  },
};

/** A killed writer leaves a multipart upload with the parts it stored, which no object listing shows. */
function s3Uploads(): IncompleteUploads & { close(): void } {
  let client: S3Client | undefined;
  const s3 = () => {
    const { s3: server } = jestStorage();
    client ??= new S3Client({
      endpoint: server.endpoint,
      region: server.region,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    return client;
  };
  return {
    async start(store, key) {
      const { bucket, prefix } = locationOf(store);
      const { UploadId } = await s3().send(
        new CreateMultipartUploadCommand({ Bucket: bucket, Key: prefix + key }),
      );
      await s3().send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: prefix + key,
          UploadId,
          PartNumber: 1,
          Body: randomBytes(64 * 1024),
        }),
      );
    },
    async count(store, prefix) {
      const { bucket, prefix: base } = locationOf(store);
      const out = await s3().send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: base + prefix }));
      expect(out.IsTruncated).not.toBe(true);
      return out.Uploads?.length ?? 0;
    },
    close: () => client?.destroy(),
  };
}

describe('file:// (local directory)', () => {
  // Created in a hook, so a filtered run that skips these tests leaves no directory behind.
  let root: ReturnType<typeof tempDir> | undefined;
  beforeAll(() => {
    root = tempDir('storage-contract');
  });
  afterAll(() => root?.remove());
  objectStoreContract(
    'file://',
    (options) => openObjectStore(`file://${root?.path ?? '/nonexistent'}/${unique()}`, options),
    fileUploads,
  );
});

describeWithComponents(['versitygw'], 's3:// against a real versitygw on loopback', () => {
  const uploads = s3Uploads();
  afterAll(() => uploads.close());
  objectStoreContract(
    's3://',
    (options) => openObjectStore(`s3://${jestStorage().bucket}/${unique()}/`, s3Config(options)),
    uploads,
  );

  it('uploads a large stream as a multipart upload of the configured part size', async () => {
    const store = await openObjectStore(`s3://${jestStorage().bucket}/${unique()}`, s3Config());
    const part = Buffer.alloc(MiB, 7);
    async function* parts() {
      for (let i = 0; i < 12; i++) yield part; // 12 MiB in 5 MiB parts → 3 parts
    }
    await store.put('multi', Readable.from(parts()));
    const info = await store.head('multi');
    expect(info?.size).toBe(12 * MiB);
    // A multipart object's ETag is "<md5 of the part md5s>-<part count>".
    expect(info?.etag).toMatch(/-3"?$/);
    await store.close();
  });

  it('reports a missing bucket as BUCKET_NOT_FOUND on every call', async () => {
    const store = await openObjectStore('s3://no-such-bucket-here/prefix', s3Config());
    for (const call of [
      () => store.put('k', Buffer.from('x')),
      () => store.get('k'),
      () => store.head('k'),
      () => store.deletePrefix(''),
    ]) {
      const err: unknown = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isStorageError(err, 'BUCKET_NOT_FOUND')).toBe(true);
    }
    await store.close();
  });

  it('reports an unknown access key and a wrong secret as BAD_CREDENTIALS', async () => {
    const { s3 } = jestStorage();
    for (const credentials of [
      { accessKeyId: 'AKNOSUCHKEY', secretAccessKey: s3.secretAccessKey },
      { accessKeyId: s3.accessKeyId, secretAccessKey: 'not-the-secret' },
    ]) {
      const store = await openObjectStore(
        `s3://${jestStorage().bucket}/x`,
        s3Config({ s3: { ...s3Config().s3, credentials } }),
      );
      await expect(store.head('k')).rejects.toMatchObject({ code: 'BAD_CREDENTIALS' });
      await expect(store.put('k', Buffer.from('x'))).rejects.toMatchObject({ code: 'BAD_CREDENTIALS' });
      await store.close();
    }
  });

  it('reports a server that does not answer as UNAVAILABLE within the deadline', async () => {
    const store = await openObjectStore(
      's3://substrate-test/x',
      s3Config({ s3: { ...s3Config().s3, endpoint: 'http://127.0.0.1:9' } }),
    );
    const started = Date.now();
    await expect(store.head('k')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(10_000);
    await store.close();
  });
});

describeWithComponents(['fake-gcs-server'], 'gs:// against a real fake-gcs-server on loopback', () => {
  // No IncompleteUploads: resumable upload sessions cannot be listed (Cloud Storage discards unfinished ones
  // after a week), so the contract only checks that abortIncompleteUploads finds none and touches nothing.
  objectStoreContract('gs://', (options) =>
    openObjectStore(`gs://${jestStorage().bucket}/${unique()}`, gcsConfig(options)),
  );

  it('reports a missing bucket as BUCKET_NOT_FOUND', async () => {
    const store = await openObjectStore('gs://no-such-bucket-here/prefix', gcsConfig());
    for (const call of [
      () => store.put('k', Buffer.from('x')),
      () => store.get('k'),
      () => store.head('k'),
    ]) {
      const err: unknown = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isStorageError(err, 'BUCKET_NOT_FOUND')).toBe(true);
    }
    await store.close();
  });
});

describe('deadlines: a server that accepts connections and never answers', () => {
  let server: Server;
  let endpoint: string;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const timeouts = { connectMs: 1_000, operationMs: 500, idleMs: 500 };

  it('s3:// fails with TIMEOUT after its deadline', async () => {
    const store = await openObjectStore('s3://silent-bucket/x', {
      s3: { endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 },
      timeouts,
    });
    const started = Date.now();
    await expect(store.head('k')).rejects.toMatchObject({ code: 'TIMEOUT' });
    await expect(store.get('k')).rejects.toMatchObject({ code: 'TIMEOUT' });
    await expect(store.put('k', Buffer.from('x'))).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(5_000);
    await store.close();
  });

  it('gs:// fails with TIMEOUT after its deadline', async () => {
    const store = await openObjectStore('gs://silent-bucket/x', {
      gcs: { apiEndpoint: endpoint, projectId: 'p', maxRetries: 0 },
      timeouts,
    });
    const started = Date.now();
    await expect(store.head('k')).rejects.toMatchObject({ code: 'TIMEOUT' });
    await expect(store.put('small', Buffer.from('x'))).rejects.toMatchObject({ code: 'TIMEOUT' });
    await expect(store.put('streamed', Readable.from([Buffer.alloc(1024)]))).rejects.toMatchObject({
      code: 'TIMEOUT',
    });
    expect(Date.now() - started).toBeLessThan(8_000);
    await store.close();
  });
});

describe('deadlines: a download whose body stalls midway', () => {
  let server: HttpServer;
  let endpoint: string;
  const stalled = new Set<ServerResponse>();

  beforeAll(async () => {
    server = createHttpServer((req, res) => {
      const url = req.url ?? '';
      if (url.includes('/storage/v1/b/') && !url.includes('alt=media')) {
        // GCS object metadata
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ kind: 'storage#object', name: 'x/k', bucket: 'stall-bucket', size: '1000' }),
        );
        return;
      }
      // The object body (S3 GetObject, GCS alt=media): 10 of 1000 bytes, then silence.
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '1000' });
      res.write(Buffer.alloc(10, 1));
      stalled.add(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const res of stalled) res.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const timeouts = { connectMs: 1_000, operationMs: 2_000, idleMs: 500 };

  it.each([
    [
      's3://',
      () => ({ s3: { endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 } }),
    ],
    ['gs://', () => ({ gcs: { apiEndpoint: endpoint, projectId: 'p', maxRetries: 0 } })],
  ] as const)('%s fails the stream with TIMEOUT once no byte arrives for idleMs', async (scheme, config) => {
    const store = await openObjectStore(`${scheme}stall-bucket/x`, { ...config(), timeouts });
    const stream = await store.get('k');
    const started = Date.now();
    await expect(buffer(stream)).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(5_000);
    await store.close();
  });
});
