/**
 * The per-file compressed stream layout, shared with upstream Substrate ("ATESPRSE" version 2):
 *
 * ```
 * "ATESPRSE" (8 bytes) | version u32 LE = 2 |
 * zstd( rawSize i64 | { offset i64, length i64, data[length] }* | -1 i64 )
 * ```
 *
 * The 12-byte header is stored in clear; everything after it is one zstd frame (with the frame checksum)
 * whose payload lists the data extents of the file in ascending order and ends with the `-1` marker. Holes
 * are not stored at all. All integers are little-endian.
 */

/** Name of the stream layout, recorded per file in the manifest's `encoding`. */
export const FILE_ENCODING = 'atesprse-v2+zstd';
/** The value of {@link FILE_ENCODING}, as a type. */
export type FileEncoding = typeof FILE_ENCODING;

/** The 8 magic bytes that open every compressed snapshot file. */
export const STREAM_MAGIC = Buffer.from('ATESPRSE', 'latin1');
/** Layout version written after the magic. */
export const STREAM_VERSION = 2;
/** Bytes of clear header before the zstd frame. */
export const STREAM_HEADER_LENGTH = 12;
/** The offset value that ends the extent list. */
export const END_MARKER = -1n;

/** The clear header. */
export function streamHeader(): Buffer {
  const header = Buffer.alloc(STREAM_HEADER_LENGTH);
  STREAM_MAGIC.copy(header, 0);
  header.writeUInt32LE(STREAM_VERSION, 8);
  return header;
}

/** One signed little-endian 64-bit integer. */
export function int64(value: number | bigint): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigInt64LE(BigInt(value));
  return out;
}

/** The 16 bytes that precede an extent's data in the payload. */
export function extentHeader(offset: number, length: number): Buffer {
  const out = Buffer.alloc(16);
  out.writeBigInt64LE(BigInt(offset), 0);
  out.writeBigInt64LE(BigInt(length), 8);
  return out;
}

/** A CRC-32 as the manifest records it: 8 lowercase hex digits. */
export function crc32Hex(crc: number): string {
  return (crc >>> 0).toString(16).padStart(8, '0');
}
