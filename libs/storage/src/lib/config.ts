import { InvalidStorageConfigError } from './errors';

/** Deadlines shared by the network adapters, in milliseconds. */
export interface StorageTimeouts {
  /** Establishing a connection. Default 5 000. */
  readonly connectMs?: number;
  /**
   * Whole-call deadline of metadata calls (head, list page, delete, bucket checks). Default 30 000.
   * Transfers (put, get) are bounded by {@link idleMs} instead, so a large object may take as long as it needs
   * while it keeps moving.
   */
  readonly operationMs?: number;
  /** A transfer whose socket sees no byte for this long fails. Default 60 000. */
  readonly idleMs?: number;
}

/** Settings of the `s3://` adapter. Unset values fall back to the AWS SDK's environment (`AWS_REGION`, keys…). */
export interface S3StoreConfig {
  /** Endpoint URL of an S3-compatible server, e.g. `http://127.0.0.1:9000`. Default: AWS. */
  readonly endpoint?: string;
  /** Default: `AWS_REGION`, else `us-east-1`. */
  readonly region?: string;
  /** Static credentials; default: the SDK's provider chain. */
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
  /** Path-style URLs (`endpoint/bucket/key`), needed by most emulators. Default: true when `endpoint` is set. */
  readonly forcePathStyle?: boolean;
  /** Multipart part size for streamed uploads (min 5 MiB). Default 8 MiB. */
  readonly partSizeBytes?: number;
  /** Parts uploaded in parallel per object. Default 4. */
  readonly queueSize?: number;
  /** Attempts per request, including the first (SDK standard retry mode, with backoff). Default 3. */
  readonly maxAttempts?: number;
}

/** Settings of the `gs://` adapter. */
export interface GcsStoreConfig {
  /** JSON API endpoint, e.g. fake-gcs-server's `http://127.0.0.1:4443`; requests to it are not authenticated. */
  readonly apiEndpoint?: string;
  readonly projectId?: string;
  /** Service-account key file; default: Application Default Credentials. */
  readonly keyFilename?: string;
  /**
   * Bodies of at least this size, and streams of unknown size, use a resumable upload; smaller ones a single
   * request. Default 8 MiB.
   */
  readonly resumableThresholdBytes?: number;
  /** Size of each resumable-upload request (multiple of 256 KiB). Default: the library's (one request). */
  readonly chunkSizeBytes?: number;
  /** Retries per request after the first attempt (exponential backoff). Default 2. */
  readonly maxRetries?: number;
}

/** Configuration of {@link openObjectStore}: only the section of the URI's scheme is used. */
export interface ObjectStoreConfig {
  readonly s3?: S3StoreConfig;
  readonly gcs?: GcsStoreConfig;
  readonly timeouts?: StorageTimeouts;
  /** Keys per listing page for S3 and GCS (1–1000). Default 1000. */
  readonly listPageSize?: number;
}

/** {@link StorageTimeouts} with defaults applied. */
export type ResolvedTimeouts = Required<StorageTimeouts>;

export function resolveTimeouts(timeouts: StorageTimeouts | undefined): ResolvedTimeouts {
  return {
    connectMs: timeouts?.connectMs ?? 5_000,
    operationMs: timeouts?.operationMs ?? 30_000,
    idleMs: timeouts?.idleMs ?? 60_000,
  };
}

const MiB = 1024 * 1024;

function integer(
  setting: string,
  value: number | undefined,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): void {
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `between ${min} and ${max}`;
    throw new InvalidStorageConfigError(setting, `${value} is not an integer ${range}`);
  }
}

function url(setting: string, value: string | undefined): void {
  if (value === undefined) return;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new InvalidStorageConfigError(setting, `"${value}" is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new InvalidStorageConfigError(setting, `"${value}" must be an http:// or https:// URL`);
  }
}

/**
 * Checks every value of an {@link ObjectStoreConfig}; throws {@link InvalidStorageConfigError} naming the
 * first bad setting. {@link openObjectStore} calls it, so a bad value fails at start-up, not mid-upload.
 */
export function validateObjectStoreConfig(config: ObjectStoreConfig): void {
  integer('timeouts.connectMs', config.timeouts?.connectMs, 1);
  integer('timeouts.operationMs', config.timeouts?.operationMs, 1);
  integer('timeouts.idleMs', config.timeouts?.idleMs, 1);
  integer('listPageSize', config.listPageSize, 1, 1000);
  const { s3, gcs } = config;
  url('s3.endpoint', s3?.endpoint);
  // S3 parts: at least 5 MiB (except the last), at most 5 GiB.
  integer('s3.partSizeBytes', s3?.partSizeBytes, 5 * MiB, 5 * 1024 * MiB);
  integer('s3.queueSize', s3?.queueSize, 1, 64);
  integer('s3.maxAttempts', s3?.maxAttempts, 1, 10);
  if (s3?.credentials && (!s3.credentials.accessKeyId || !s3.credentials.secretAccessKey)) {
    throw new InvalidStorageConfigError('s3.credentials', 'accessKeyId and secretAccessKey must both be set');
  }
  url('gcs.apiEndpoint', gcs?.apiEndpoint);
  integer('gcs.resumableThresholdBytes', gcs?.resumableThresholdBytes, 0);
  integer('gcs.maxRetries', gcs?.maxRetries, 0, 10);
  integer('gcs.chunkSizeBytes', gcs?.chunkSizeBytes, 256 * 1024);
  if (gcs?.chunkSizeBytes !== undefined && gcs.chunkSizeBytes % (256 * 1024) !== 0) {
    throw new InvalidStorageConfigError(
      'gcs.chunkSizeBytes',
      `${gcs.chunkSizeBytes} is not a multiple of 256 KiB`,
    );
  }
}
