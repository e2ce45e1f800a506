import { execFileSync } from 'node:child_process';

/** One entry of a hand-written tar (for entries GNU tar will not write, such as `../escape`). */
export interface RawEntry {
  readonly name: string;
  readonly type?: '0' | '1' | '2' | '3' | '5' | '6';
  readonly content?: string;
  readonly linkname?: string;
  readonly mode?: number;
}

function field(block: Buffer, offset: number, length: number, value: string): void {
  block.write(value, offset, Math.min(length, Buffer.byteLength(value)), 'utf8');
}

function octal(block: Buffer, offset: number, length: number, value: number): void {
  field(block, offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
}

/** A ustar archive of `entries`, built byte by byte. */
export function rawTar(entries: readonly RawEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const body = Buffer.from(entry.content ?? '');
    const header = Buffer.alloc(512);
    field(header, 0, 100, entry.name);
    octal(header, 100, 8, entry.mode ?? 0o644);
    octal(header, 108, 8, 0);
    octal(header, 116, 8, 0);
    octal(header, 124, 12, (entry.type ?? '0') === '0' ? body.length : 0);
    octal(header, 136, 12, 0);
    field(header, 148, 8, '        ');
    field(header, 156, 1, entry.type ?? '0');
    field(header, 157, 100, entry.linkname ?? '');
    field(header, 257, 6, 'ustar\0');
    field(header, 263, 2, '00');
    let sum = 0;
    for (const byte of header) sum += byte;
    field(header, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
    parts.push(header);
    if ((entry.type ?? '0') === '0' && body.length > 0) {
      parts.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
    }
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** GNU tar of a directory (pax format, as the image builder writes layers). */
export function gnuTar(dir: string): Buffer {
  return execFileSync('tar', ['--format=posix', '--sort=name', '-C', dir, '-cf', '-', '.'], {
    maxBuffer: 256 * 1024 * 1024,
  });
}

/** Feeds a buffer in small uneven chunks, to exercise the reader's buffering. */
export async function* chunked(buffer: Buffer, size = 777): AsyncGenerator<Buffer> {
  for (let i = 0; i < buffer.length; i += size) yield buffer.subarray(i, i + size);
}
