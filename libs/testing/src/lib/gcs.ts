import { freePort } from './ports';
import { ManagedProcess, tempDir } from './process';
import { requireTool } from './tools';

/** A fake-gcs-server (Google Cloud Storage JSON API emulator) on 127.0.0.1. */
export interface FakeGcsInstance {
  /** `http://127.0.0.1:<port>`: the client's `apiEndpoint` (or `STORAGE_EMULATOR_HOST`). */
  readonly endpoint: string;
  /** Same as {@link endpoint}, under the name `@google-cloud/storage` uses. */
  readonly apiEndpoint: string;
  readonly port: number;
  /** The filesystem backend's root. */
  readonly dataDir: string;
  readonly pid: number | undefined;
  /** Creates a bucket (idempotent) through the JSON API. */
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

/** Options for {@link startFakeGcs}. */
export interface FakeGcsOptions {
  /** Buckets to create once the server answers. */
  readonly buckets?: readonly string[];
}

/**
 * Starts a throw-away fake-gcs-server over plain http on a free loopback port with a filesystem backend in a
 * temp dir (its defaults, https on 0.0.0.0:4443, are overridden), and waits until it lists buckets.
 */
export async function startFakeGcs(options: FakeGcsOptions = {}): Promise<FakeGcsInstance> {
  const dir = tempDir('gcs');
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const args = [
    '-scheme',
    'http',
    '-host',
    '127.0.0.1',
    '-port',
    String(port),
    '-public-host',
    `127.0.0.1:${port}`,
    '-external-url',
    endpoint,
    '-backend',
    'filesystem',
    '-filesystem-root',
    dir.path,
    '-log-level',
    'warn',
  ];
  const server = ManagedProcess.start(`fake-gcs-server:${port}`, requireTool('fake-gcs-server'), args);
  const instance: FakeGcsInstance = {
    endpoint,
    apiEndpoint: endpoint,
    port,
    dataDir: dir.path,
    pid: server.pid,
    createBucket: async (name) => {
      const res = await fetch(`${endpoint}/storage/v1/b`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name }),
        signal: AbortSignal.timeout(5_000),
      });
      if (!res.ok && res.status !== 409) {
        throw new Error(
          `fake-gcs-server: creating bucket ${name} failed: HTTP ${res.status} ${await res.text()}`,
        );
      }
    },
    stop: async () => {
      await server.stop();
      dir.remove();
    },
  };
  try {
    await server.waitUntil(
      async () => (await fetch(`${endpoint}/storage/v1/b`, { signal: AbortSignal.timeout(1_000) })).ok,
    );
    for (const bucket of options.buckets ?? []) await instance.createBucket(bucket);
    return instance;
  } catch (err) {
    await instance.stop();
    throw err;
  }
}
