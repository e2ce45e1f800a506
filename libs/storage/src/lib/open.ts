import { validateObjectStoreConfig, type ObjectStoreConfig } from './config';
import type { ObjectStore } from './object-store';
import { parseStorageUri } from './uri';

/**
 * Opens the object store a snapshot location names, choosing the adapter by URI scheme: `file:///dir`,
 * `s3://bucket/prefix` or `gs://bucket/prefix`. Only the chosen adapter's SDK is loaded. Throws
 * {@link InvalidStorageUriError} for a malformed URI or an unknown scheme and
 * {@link InvalidStorageConfigError} for a bad setting. No network call is made.
 */
export async function openObjectStore(uri: string, config: ObjectStoreConfig = {}): Promise<ObjectStore> {
  const location = parseStorageUri(uri);
  validateObjectStoreConfig(config);
  switch (location.scheme) {
    case 'file': {
      const { FileObjectStore } = await import('./file-store');
      return new FileObjectStore(location.path);
    }
    case 's3': {
      const { S3ObjectStore } = await import('./s3-store');
      return new S3ObjectStore(location.bucket, location.prefix, config);
    }
    case 'gs': {
      const { GcsObjectStore } = await import('./gcs-store');
      return new GcsObjectStore(location.bucket, location.prefix, config);
    }
  }
}
