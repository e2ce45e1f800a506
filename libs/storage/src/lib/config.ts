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
