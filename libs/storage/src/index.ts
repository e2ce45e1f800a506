// @substrate/storage — the ObjectStore port and its adapters (file://, s3://, gs://), chosen by URI scheme.
// The cloud SDKs are imported only by their adapter, which is loaded on first use.

export type { GcsStoreConfig, ObjectStoreConfig, S3StoreConfig, StorageTimeouts } from './lib/config';
export {
  AccessDeniedError,
  BadCredentialsError,
  BucketNotFoundError,
  InvalidKeyError,
  InvalidRangeError,
  InvalidStorageConfigError,
  InvalidStorageUriError,
  ObjectNotFoundError,
  SizeMismatchError,
  StorageError,
  StorageTimeoutError,
  StorageUnavailableError,
  isStorageError,
  type StorageErrorCode,
} from './lib/errors';
export type {
  AbortIncompleteUploadsOptions,
  ByteRange,
  GetOptions,
  ListedObject,
  ObjectInfo,
  ObjectStore,
  PutOptions,
} from './lib/object-store';
export { openObjectStore } from './lib/open';
export {
  STORAGE_SCHEMES,
  formatStorageUri,
  parseStorageUri,
  validateKey,
  type StorageLocation,
} from './lib/uri';
