import { InvalidImageError } from '../errors/atelet-error';

/** Kinds of tar entries atelet knows. */
export type TarEntryType =
  'file' | 'directory' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo' | 'other';

/** One entry's header, with pax and GNU long-name extensions applied. */
export interface TarHeader {
  readonly name: string;
  readonly type: TarEntryType;
  /** Permission bits (including setuid/setgid/sticky). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtimeSeconds: number;
  /** Target of a symlink or hard link. */
  readonly linkname: string;
}

/** An entry: its header and, for regular files, exactly `size` bytes of content (read it or skip it). */
export interface TarEntry {
  readonly header: TarHeader;
  /** The content in chunks; must be consumed (or left alone: the reader skips what is not read). */
  readonly body: AsyncIterable<Buffer>;
}

const BLOCK = 512;

/** Reads exact byte counts from a stream of chunks. */
class ByteReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;

  constructor(private readonly source: AsyncIterator<Buffer | Uint8Array | string>) {}

  /** Buffers at least `n` bytes unless the stream ends first; returns how many are buffered. */
  private async fill(n: number): Promise<number> {
    while (this.buffered < n && !this.ended) {
      const next = await this.source.next();
      if (next.done === true) {
        this.ended = true;
        break;
      }
      const chunk =
        typeof next.value === 'string'
          ? Buffer.from(next.value)
          : Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
      if (chunk.length === 0) continue;
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    return this.buffered;
  }

  /** Exactly `n` bytes, or `undefined` when the stream ends before any byte; a partial read throws. */
  async read(n: number): Promise<Buffer | undefined> {
    const have = await this.fill(n);
    if (have === 0) return undefined;
    if (have < n)
      throw new InvalidImageError('layer', `truncated tar stream (wanted ${n} bytes, got ${have})`);
    const all = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }

  /** Up to `n` bytes, in the chunks they arrive in. */
  async *take(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if ((await this.fill(1)) === 0)
        throw new InvalidImageError('layer', `truncated tar stream (${left} content bytes missing)`);
      const head = this.chunks[0] as Buffer;
      if (head.length <= left) {
        this.chunks.shift();
        this.buffered -= head.length;
        left -= head.length;
        yield head;
      } else {
        this.chunks[0] = head.subarray(left);
        this.buffered -= left;
        const out = head.subarray(0, left);
        left = 0;
        yield out;
      }
    }
  }
}

function text(block: Buffer, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
}

/** A numeric field: octal text, or GNU base-256 (high bit of the first byte set). */
function numeric(block: Buffer, offset: number, length: number): number {
  const field = block.subarray(offset, offset + length);
  if (((field[0] ?? 0) & 0x80) !== 0) {
    let value = (field[0] ?? 0) & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + (field[i] ?? 0);
    return value;
  }
  const digits = text(block, offset, length).trim();
  if (digits === '') return 0;
  if (!/^[0-7]+$/.test(digits))
    throw new InvalidImageError('layer', `bad numeric tar header field ${JSON.stringify(digits)}`);
  return parseInt(digits, 8);
}

function checksumOk(block: Buffer): boolean {
  const stored = numeric(block, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (block[i] ?? 0);
  return sum === stored;
}

function typeOf(flag: string): TarEntryType {
  switch (flag) {
    case '0':
    case '':
    case '7':
      return 'file';
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '3':
      return 'char';
    case '4':
      return 'block';
    case '5':
      return 'directory';
    case '6':
      return 'fifo';
    default:
      return 'other';
  }
}

/** Parses pax extended header records (`<len> <key>=<value>\n`). */
export function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space === -1) break;
    const length = Number(data.subarray(at, space).toString('ascii'));
    if (!Number.isInteger(length) || length <= 0 || at + length > data.length) {
      throw new InvalidImageError('layer', 'malformed pax extended header');
    }
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    at += length;
  }
  return out;
}

/**
 * Reads a tar stream (ustar, pax and GNU long names; numeric fields in octal or base-256) entry by entry.
 * Each entry's body must be consumed before the next entry is requested; unread content is skipped.
 * Checks every header's checksum; a stream that ends inside an entry throws {@link InvalidImageError}.
 */
export async function* readTar(
  source: AsyncIterable<Buffer | Uint8Array | string>,
): AsyncGenerator<TarEntry> {
  const reader = new ByteReader(source[Symbol.asyncIterator]());
  let globalPax: Record<string, string> = {};
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const block = await reader.read(BLOCK);
    if (block === undefined) return;
    if (block.every((byte) => byte === 0)) {
      // End of archive: two zero blocks (some writers stop after one).
      return;
    }
    if (!checksumOk(block))
      throw new InvalidImageError('layer', 'tar header checksum mismatch (corrupt or not a tar stream)');
    const flag = text(block, 156, 1);
    const size = numeric(block, 124, 12);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      const data = (await reader.read(padded)) ?? Buffer.alloc(0);
      const content = data.subarray(0, size);
      if (flag === 'x') pax = { ...pax, ...parsePax(content) };
      else if (flag === 'g') globalPax = { ...globalPax, ...parsePax(content) };
      else if (flag === 'L') longName = text(content, 0, content.length);
      else longLink = text(content, 0, content.length);
      continue;
    }
    const magic = text(block, 257, 6);
    const prefix = magic.startsWith('ustar') ? text(block, 345, 155) : '';
    const rawName = text(block, 0, 100);
    const merged = { ...globalPax, ...pax };
    const name = merged['path'] ?? longName ?? (prefix === '' ? rawName : `${prefix}/${rawName}`);
    const type = typeOf(flag);
    const entrySize = merged['size'] !== undefined ? Number(merged['size']) : size;
    const header: TarHeader = {
      name,
      type,
      mode: numeric(block, 100, 8) & 0o7777,
      uid: merged['uid'] !== undefined ? Number(merged['uid']) : numeric(block, 108, 8),
      gid: merged['gid'] !== undefined ? Number(merged['gid']) : numeric(block, 116, 8),
      size: type === 'file' ? entrySize : 0,
      mtimeSeconds:
        merged['mtime'] !== undefined ? Math.floor(Number(merged['mtime'])) : numeric(block, 136, 12),
      linkname: merged['linkpath'] ?? longLink ?? text(block, 157, 100),
    };
    pax = {};
    longName = undefined;
    longLink = undefined;
    const contentSize = type === 'file' ? entrySize : size;
    let remaining = contentSize;
    const body: AsyncIterable<Buffer> = {
      async *[Symbol.asyncIterator]() {
        for await (const chunk of reader.take(remaining)) {
          remaining -= chunk.length;
          yield chunk;
        }
      },
    };
    yield { header, body };
    // Whatever the consumer left unread (or all of it) is skipped.
    for await (const chunk of reader.take(remaining)) remaining -= chunk.length;
    const padding = Math.ceil(contentSize / BLOCK) * BLOCK - contentSize;
    if (padding > 0) await reader.read(padding);
  }
}
