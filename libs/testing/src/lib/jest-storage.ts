import { startFakeGcs, type FakeGcsInstance } from './gcs';
import { startS3Server, type S3ServerInstance } from './s3';
import { findTool, isCI } from './tools';

/** Environment variables through which a Jest global setup hands the storage emulators to the test files. */
export const S3_ENDPOINT_ENV = 'SUBSTRATE_TEST_S3_ENDPOINT';
export const S3_REGION_ENV = 'SUBSTRATE_TEST_S3_REGION';
export const S3_ACCESS_KEY_ID_ENV = 'SUBSTRATE_TEST_S3_ACCESS_KEY_ID';
export const S3_SECRET_ACCESS_KEY_ENV = 'SUBSTRATE_TEST_S3_SECRET_ACCESS_KEY';
export const GCS_ENDPOINT_ENV = 'SUBSTRATE_TEST_GCS_ENDPOINT';
export const STORAGE_BUCKET_ENV = 'SUBSTRATE_TEST_STORAGE_BUCKET';

/** The bucket the global setup creates in each emulator. */
export const DEFAULT_TEST_BUCKET = 'substrate-test';

/** What a test file gets from {@link jestStorage}. */
export interface JestStorage {
  /** Bucket created in both emulators. */
  readonly bucket: string;
  readonly s3: {
    readonly endpoint: string;
    readonly region: string;
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
  };
  readonly gcs: { readonly apiEndpoint: string };
}

const started: { s3?: S3ServerInstance; gcs?: FakeGcsInstance } = {};

/**
 * For a Jest `globalSetup`: starts versitygw and fake-gcs-server on loopback, creates the test bucket in each
 * and publishes them in the `SUBSTRATE_TEST_S3_*`, `SUBSTRATE_TEST_GCS_ENDPOINT` and
 * `SUBSTRATE_TEST_STORAGE_BUCKET` variables. An emulator whose binary is missing is not started (its suites
 * skip themselves through `describeWithComponents`), except under `CI=true`, where that fails the setup.
 */
export async function startJestStorage(bucket = DEFAULT_TEST_BUCKET): Promise<void> {
  process.env[STORAGE_BUCKET_ENV] = bucket;
  const startS3 = isCI() || findTool('versitygw') !== undefined;
  const startGcs = isCI() || findTool('fake-gcs-server') !== undefined;
  const [s3, gcs] = await Promise.all([
    startS3 ? startS3Server({ buckets: [bucket] }) : undefined,
    startGcs ? startFakeGcs({ buckets: [bucket] }) : undefined,
  ]);
  started.s3 = s3;
  started.gcs = gcs;
  if (s3) {
    process.env[S3_ENDPOINT_ENV] = s3.endpoint;
    process.env[S3_REGION_ENV] = s3.region;
    process.env[S3_ACCESS_KEY_ID_ENV] = s3.accessKeyId;
    process.env[S3_SECRET_ACCESS_KEY_ENV] = s3.secretAccessKey;
  }
  if (gcs) process.env[GCS_ENDPOINT_ENV] = gcs.apiEndpoint;
}

/** For the matching Jest `globalTeardown`. */
export async function stopJestStorage(): Promise<void> {
  await Promise.all([started.s3?.stop(), started.gcs?.stop()]);
}

function required(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(`${name} is not set: is the storage global setup (startJestStorage) configured?`);
  return value;
}

/** In a test file: the emulators the global setup started (throws when it did not run). */
export function jestStorage(): JestStorage {
  return {
    bucket: required(STORAGE_BUCKET_ENV),
    s3: {
      endpoint: required(S3_ENDPOINT_ENV),
      region: required(S3_REGION_ENV),
      accessKeyId: required(S3_ACCESS_KEY_ID_ENV),
      secretAccessKey: required(S3_SECRET_ACCESS_KEY_ENV),
    },
    gcs: { apiEndpoint: required(GCS_ENDPOINT_ENV) },
  };
}
