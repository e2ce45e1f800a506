import { createHash, createHmac, randomBytes } from 'node:crypto';
import { freePort } from './ports';
import { ManagedProcess, tempDir } from './process';
import { requireTool } from './tools';

/** A versitygw S3-protocol server (posix backend) on 127.0.0.1, with its root credentials. */
export interface S3ServerInstance {
  /** `http://127.0.0.1:<port>`; use path-style addressing (`forcePathStyle`). */
  readonly endpoint: string;
  readonly port: number;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The posix backend's root: bucket `B`, key `K` is the file `<dataDir>/B/K`. */
  readonly dataDir: string;
  readonly pid: number | undefined;
  /** Creates a bucket (idempotent) through a signed S3 `CreateBucket` request. */
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

/** Options for {@link startS3Server}. */
export interface S3ServerOptions {
  /** Buckets to create once the server answers. */
  readonly buckets?: readonly string[];
  readonly region?: string;
}

const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();

/**
 * Sends one AWS Signature V4 signed request with an empty body to an S3 endpoint (enough for the harness's
 * bucket calls, without pulling an AWS SDK into the test harness).
 */
export async function signedS3Request(
  server: Pick<S3ServerInstance, 'endpoint' | 'region' | 'accessKeyId' | 'secretAccessKey'>,
  method: string,
  path: string,
  timeoutMs = 5_000,
): Promise<Response> {
  const url = new URL(path, server.endpoint);
  const amzDate = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const payloadHash = createHash('sha256').update('').digest('hex');
  const headers: Record<string, string> = {
    host: url.host,
    'x-amz-content-sha256': payloadHash,
    'x-amz-date': amzDate,
  };
  const signedHeaders = Object.keys(headers).sort().join(';');
  const canonical = [
    method,
    url.pathname,
    url.searchParams.toString(),
    ...Object.keys(headers)
      .sort()
      .map((name) => `${name}:${headers[name] ?? ''}`),
    '',
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${day}/${server.region}/s3/aws4_request`;
  const toSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    createHash('sha256').update(canonical).digest('hex'),
  ].join('\n');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${server.secretAccessKey}`, day), server.region), 's3'),
    'aws4_request',
  );
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  const { host: _host, ...sent } = headers;
  return fetch(url, {
    method,
    headers: {
      ...sent,
      authorization: `AWS4-HMAC-SHA256 Credential=${server.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    },
    signal: AbortSignal.timeout(timeoutMs),
  });
}

/**
 * Starts a throw-away versitygw (`versitygw --access K --secret S --port 127.0.0.1:P posix DIR`) with a
 * generated access key and secret, on a free loopback port, and waits until it answers signed requests.
 * The posix backend keeps metadata in extended attributes, so the temp dir must allow user xattrs.
 */
export async function startS3Server(options: S3ServerOptions = {}): Promise<S3ServerInstance> {
  const dir = tempDir('s3');
  const port = await freePort();
  const region = options.region ?? 'us-east-1';
  const credentials = {
    accessKeyId: `AK${randomBytes(9).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(24).toString('base64url'),
  };
  const args = [
    '--access',
    credentials.accessKeyId,
    '--secret',
    credentials.secretAccessKey,
    '--region',
    region,
    '--port',
    `127.0.0.1:${port}`,
    '--quiet',
    'posix',
    dir.path,
  ];
  const server = ManagedProcess.start(`versitygw:${port}`, requireTool('versitygw'), args);
  const base = { endpoint: `http://127.0.0.1:${port}`, region, ...credentials };
  const instance: S3ServerInstance = {
    ...base,
    port,
    dataDir: dir.path,
    pid: server.pid,
    createBucket: async (name) => {
      const res = await signedS3Request(base, 'PUT', `/${encodeURIComponent(name)}`);
      const body = await res.text();
      if (!res.ok && !body.includes('BucketAlreadyOwnedByYou')) {
        throw new Error(`versitygw: creating bucket ${name} failed: HTTP ${res.status} ${body}`);
      }
    },
    stop: async () => {
      await server.stop();
      dir.remove();
    },
  };
  try {
    await server.waitUntil(async () => (await signedS3Request(base, 'GET', '/', 1_000)).ok);
    for (const bucket of options.buckets ?? []) await instance.createBucket(bucket);
    return instance;
  } catch (err) {
    await instance.stop();
    throw err;
  }
}
