export {
  EncodeAbortedError,
  InvalidFileNameError,
  ManifestSyntaxError,
  ManifestValidationError,
  NotARegularFileError,
  SnapshotError,
  SnapshotIntegrityError,
  SourceChangedError,
  UnsupportedFormatError,
  formatManifestIssue,
  isIntegrityError,
  isSnapshotError,
  type IntegrityErrorCode,
  type ManifestIssue,
  type SnapshotErrorCode,
} from './lib/errors';
export { dataBytes, type Extent } from './lib/extents';
export {
  FILE_ENCODING,
  STREAM_HEADER_LENGTH,
  STREAM_MAGIC,
  STREAM_VERSION,
  type FileEncoding,
} from './lib/format';
export {
  MANIFEST_FORMAT_VERSION,
  RUNTIME_ASSET,
  SANDBOX_CLASSES,
  SNAPSHOT_SCOPES,
  createManifest,
  manifestIssues,
  parseManifest,
  runtimeBinary,
  serializeManifest,
  validateFileEntry,
  validateManifest,
  type ManifestInput,
  type RuntimeAsset,
  type SandboxClass,
  type SnapshotFileEntry,
  type SnapshotFrame,
  type SnapshotManifest,
  type SnapshotScope,
} from './lib/manifest';
export {
  COMPRESSED_SUFFIX,
  MANIFEST_FILE_NAME,
  assertFileName,
  compressedObjectName,
  fileNameProblem,
} from './lib/names';
export {
  DEFAULT_COMPRESSION_LEVEL,
  DEFAULT_COMPRESSION_THREADS,
  compressZstd,
  decompressZstd,
  type CompressOptions,
} from './lib/zstd';
export {
  DEFAULT_FRAME_SIZE,
  DEFAULT_HOLE_BLOCK_SIZE,
  DEFAULT_READ_CHUNK_SIZE,
  encodeFile,
  type EncodeOptions,
  type EncodedFile,
} from './lib/encode';
export { decodeToFile, verifyStream, type DecodeOptions, type DecodeResult } from './lib/decode';
export { DEFAULT_DECODE_THREADS } from './lib/frame-decode';
export {
  DEFAULT_FILE_CONCURRENCY,
  decodeDirectory,
  encodeDirectory,
  type DecodeDirectoryOptions,
  type EncodeDirectoryOptions,
  type GetObject,
  type PutObject,
} from './lib/directory';
