import { constants } from 'node:fs';
import { lstat, open, readdir, realpath, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ActorLogNotFoundError } from '../errors/atelet-error';

/** The directory name ateom uses for an actor without an atespace (an upstream atelet sends none). */
export const NO_ATESPACE_DIR = '_';

/** The current file; rotated ones are `actor.log.1` (newest) … `actor.log.<n>` (oldest). */
const CURRENT = 'actor.log';
const ROTATED = /^actor\.log\.([1-9]\d{0,2})$/;
const CHUNK = 64 * 1024;
/** Longer lines (ateom writes at most 64 KiB of output per line, plus its JSON) are skipped. */
export const MAX_LINE_BYTES = 1024 * 1024;
const NEWLINE = 0x0a;

/** What to read of an actor's log. */
export interface ActorLogQuery {
  /** Only lines of this container (`labels["ate.dev/container_name"]`); lifecycle lines have none. */
  readonly container?: string;
  /** Only lines whose `time` is at or after this instant (ms since the epoch). */
  readonly sinceMs?: number;
  /** Only the last N lines (after the filters); then, with `follow`, what comes next. */
  readonly tailLines?: number;
  /** Keep reading the lines appended (across rotations) until the signal aborts. */
  readonly follow?: boolean;
}

export interface ReadOptions {
  /** Ends a follow (client gone, atelet stopping). */
  readonly signal?: AbortSignal;
  /** How often a follow looks for new lines and rotations (default 200 ms). */
  readonly pollIntervalMs?: number;
}

/** One open log file; `offset` is where the next complete line starts. */
interface LogFile {
  readonly name: string;
  readonly handle: FileHandle;
  readonly ino: number;
  /** The size when it was opened (for the current file, what the first read covers). */
  readonly size: number;
  offset: number;
}

type Matcher = (line: Buffer) => boolean;

/** The file a follow reads. */
interface FollowState {
  current: LogFile | undefined;
}

async function closeAll(files: readonly LogFile[]): Promise<void> {
  for (const file of files) await file.handle.close().catch(() => undefined);
}

/**
 * Opens the log directory of an actor, `<logDir>/<atespace or _>/<actorId>/`, as ateom writes it
 * (apps/ateom/src/actor-log). `atespace` and `actorId` must already be validated DNS-1123 labels (or
 * an empty atespace): they never contain `/` or `..`. A symlinked directory or file is refused, so the
 * reader never leaves the log dir.
 */
export async function openActorLog(logDir: string, atespace: string, actorId: string): Promise<ActorLog> {
  const notFound = () => new ActorLogNotFoundError(atespace, actorId);
  let dir: string;
  try {
    dir = await realpath(logDir);
  } catch {
    throw notFound();
  }
  for (const name of [atespace === '' ? NO_ATESPACE_DIR : atespace, actorId]) {
    dir = join(dir, name);
    const stats = await lstat(dir).catch(() => undefined);
    // lstat: a symlink is not a directory, so it is refused rather than followed.
    if (stats?.isDirectory() !== true) throw notFound();
  }
  return new ActorLog(dir);
}

/**
 * The JSON lines of one actor, oldest first across `actor.log.<n>` … `actor.log.1`, `actor.log`. Reads
 * stream in 64 KiB chunks (a tail reads backwards), so memory stays bounded whatever the log's size.
 */
export class ActorLog {
  constructor(readonly dir: string) {}

  /**
   * The matching lines as chunks of whole lines (each ending in `\n`), as they are on disk. Lines not
   * yet terminated are left for a later read. With `follow`, runs until `options.signal` aborts.
   */
  async *lines(query: ActorLogQuery, options: ReadOptions = {}): AsyncGenerator<Buffer, void, undefined> {
    const match = matcher(query);
    const files = await this.snapshot();
    const state: FollowState = { current: files.find((file) => file.name === CURRENT) };
    try {
      const start = await tailStart(files, query.tailLines, match);
      for (const [i, file] of files.entries()) {
        if (i < start.file) continue;
        if (i === start.file) file.offset = start.offset;
        yield* readForward(file, file.size, match);
      }
      if (query.follow !== true) return;
      await closeAll(files.filter((file) => file !== state.current));
      files.length = 0;
      yield* this.follow(state, match, options);
    } finally {
      await closeAll(
        state.current !== undefined && !files.includes(state.current) ? [...files, state.current] : files,
      );
    }
  }

  /**
   * Reads what is appended to `actor.log`, and the files rotated out since the last look, until aborted.
   * `state.current` is the file being read (the caller closes it).
   */
  private async *follow(
    state: FollowState,
    match: Matcher | undefined,
    options: ReadOptions,
  ): AsyncGenerator<Buffer> {
    const { signal } = options;
    while (signal?.aborted !== true) {
      const current = state.current;
      if (current !== undefined) yield* readForward(current, (await current.handle.stat()).size, match);
      const latest = await lstat(join(this.dir, CURRENT)).catch(() => undefined);
      if (latest?.isFile() === true && latest.ino !== current?.ino) {
        const next = await openLogFile(this.dir, CURRENT);
        if (next !== undefined) {
          if (current !== undefined) {
            // Rotated: the rest of the old file, then any file rotated out after it, then the new one.
            let caughtUp = false;
            try {
              yield* readForward(current, (await current.handle.stat()).size, match);
              yield* this.between(current.ino, next.ino, match);
              caughtUp = true;
            } finally {
              // Stopped half-way (an error, or the reader went away): the caller closes only `current`.
              if (!caughtUp) await next.handle.close();
            }
            await current.handle.close();
          }
          state.current = next;
          continue;
        }
      }
      try {
        await sleep(options.pollIntervalMs ?? 200, undefined, signal ? { signal } : {});
      } catch {
        return; // aborted
      }
    }
  }

  /** The rotated files newer than the one with inode `after` and older than the one with `before`. */
  private async *between(after: number, before: number, match: Matcher | undefined): AsyncGenerator<Buffer> {
    const all = await this.open();
    const rotated = all.filter((file) => file.name !== CURRENT);
    await closeAll(all.filter((file) => file.name === CURRENT));
    try {
      const from = rotated.findIndex((file) => file.ino === after);
      const to = rotated.findIndex((file) => file.ino === before);
      // Not found: it was rotated out of the kept set; everything kept is newer.
      for (const file of rotated.slice(from + 1, to >= 0 ? to : undefined)) {
        yield* readForward(file, file.size, match);
      }
    } finally {
      await closeAll(rotated);
    }
  }

  /**
   * Every log file open, oldest first, as one consistent set: a rotation while they are opened (a path
   * that then names another file, or a new name) means opening them again.
   */
  private async snapshot(): Promise<LogFile[]> {
    for (let attempt = 0; ; attempt += 1) {
      const files = await this.open();
      const now = await this.names();
      const stable =
        now.length === files.length &&
        (
          await Promise.all(
            files.map(async (file) => (await lstat(join(this.dir, file.name)).catch(() => undefined))?.ino),
          )
        ).every((ino, i) => ino === files[i]?.ino);
      if (stable || attempt >= 4) return files;
      await closeAll(files);
    }
  }

  /** The log file names, oldest first. */
  private async names(): Promise<string[]> {
    const entries = await readdir(this.dir).catch(() => [] as string[]);
    const rotated = entries
      .map((name) => ({ name, n: Number(ROTATED.exec(name)?.[1] ?? 0) }))
      .filter(({ n }) => n > 0)
      .sort((a, b) => b.n - a.n)
      .map(({ name }) => name);
    return entries.includes(CURRENT) ? [...rotated, CURRENT] : rotated;
  }

  private async open(): Promise<LogFile[]> {
    const files: LogFile[] = [];
    try {
      for (const name of await this.names()) {
        const file = await openLogFile(this.dir, name);
        if (file !== undefined && !files.some((other) => other.ino === file.ino)) files.push(file);
        else await file?.handle.close();
      }
    } catch (error) {
      await closeAll(files);
      throw error;
    }
    return files;
  }
}

/** Opens a regular file of the log dir without following a symlink; undefined when it is not one. */
async function openLogFile(dir: string, name: string): Promise<LogFile | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(join(dir, name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined; // gone (rotated), a symlink (ELOOP), unreadable
  }
  const stats = await handle.stat();
  if (!stats.isFile()) {
    await handle.close();
    return undefined;
  }
  return { name, handle, ino: stats.ino, size: stats.size, offset: 0 };
}

function matcher(query: ActorLogQuery): Matcher | undefined {
  const { container, sinceMs } = query;
  if (container === undefined && sinceMs === undefined) return undefined;
  return (line) => {
    let record: unknown;
    try {
      record = JSON.parse(line.toString('utf8'));
    } catch {
      return false;
    }
    if (record === null || typeof record !== 'object') return false;
    const { time, labels } = record as { time?: unknown; labels?: unknown };
    if (container !== undefined) {
      const name =
        labels !== null && typeof labels === 'object'
          ? (labels as Record<string, unknown>)['ate.dev/container_name']
          : undefined;
      if (name !== container) return false;
    }
    if (sinceMs !== undefined) {
      const ms = typeof time === 'string' ? Date.parse(time) : NaN;
      if (!(ms >= sinceMs)) return false;
    }
    return true;
  };
}

/** Reads `length` bytes at `position` (fewer only at the end of the file). */
async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/**
 * The complete lines of `file` from `file.offset` up to `end`, the matching ones in chunks; moves
 * `file.offset` past each complete line (an unterminated last line is left for later).
 */
async function* readForward(file: LogFile, end: number, match: Matcher | undefined): AsyncGenerator<Buffer> {
  if (end < file.offset) file.offset = 0; // truncated: start over
  let position = file.offset;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  while (position < end) {
    const chunk = await readAt(file.handle, position, Math.min(CHUNK, end - position));
    if (chunk.length === 0) break;
    const out: Buffer[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl >= 0; nl = chunk.indexOf(NEWLINE, start)) {
      const piece = chunk.subarray(start, nl + 1);
      const bytes = pendingBytes + piece.length;
      if (bytes <= MAX_LINE_BYTES) {
        const line = pendingBytes === 0 ? piece : Buffer.concat([...pending, piece]);
        if (match === undefined || match(line)) out.push(line);
      }
      pending = [];
      pendingBytes = 0;
      start = nl + 1;
      file.offset = position + start;
    }
    const rest = chunk.subarray(start);
    pendingBytes += rest.length;
    // An over-long line is only counted until its end, never held.
    pending = pendingBytes <= MAX_LINE_BYTES ? [...pending, rest] : [];
    position += chunk.length;
    if (out.length > 0) yield out.length === 1 && out[0] ? out[0] : Buffer.concat(out);
  }
}

/** A complete line found reading backwards: where it starts, its length with `\n`, its bytes without. */
interface BackwardLine {
  readonly offset: number;
  readonly length: number;
  readonly text?: Buffer;
}

/**
 * The complete lines of the first `size` bytes of a file, last first, reading 64 KiB chunks backwards.
 * `text` is only assembled when `withText` (and the line is not over {@link MAX_LINE_BYTES}).
 */
async function* linesBackward(
  handle: FileHandle,
  size: number,
  withText: boolean,
): AsyncGenerator<BackwardLine> {
  let position = size;
  /** Just past the `\n` that ends the line being assembled; -1 until a newline is found. */
  let lineEnd = -1;
  let parts: Buffer[] = [];
  while (position > 0) {
    const start = Math.max(0, position - CHUNK);
    const chunk = await readAt(handle, start, position - start);
    let end = chunk.length;
    while (end > 0) {
      const nl = chunk.lastIndexOf(NEWLINE, end - 1);
      if (nl < 0) break;
      if (lineEnd >= 0) {
        const offset = start + nl + 1;
        const length = lineEnd - offset;
        const text =
          withText && length <= MAX_LINE_BYTES
            ? Buffer.concat([chunk.subarray(nl + 1, end), ...parts])
            : undefined;
        yield { offset, length, ...(text !== undefined && { text }) };
      }
      parts = [];
      lineEnd = start + nl + 1;
      end = nl;
    }
    parts =
      lineEnd >= 0 && withText && lineEnd - start <= MAX_LINE_BYTES ? [chunk.subarray(0, end), ...parts] : [];
    position = start;
  }
  if (lineEnd > 0) {
    const text = withText && lineEnd <= MAX_LINE_BYTES ? Buffer.concat(parts) : undefined;
    yield { offset: 0, length: lineEnd, ...(text !== undefined && { text }) };
  }
}

/**
 * Where the forward read starts: the beginning, or with `tailLines` the start of the N-th matching line
 * from the end (found reading backwards from the newest file).
 */
async function tailStart(
  files: readonly LogFile[],
  tailLines: number | undefined,
  match: Matcher | undefined,
): Promise<{ file: number; offset: number }> {
  if (tailLines === undefined) return { file: 0, offset: 0 };
  let remaining = tailLines;
  let lastEnd: { file: number; offset: number } | undefined;
  for (let i = files.length - 1; i >= 0; i -= 1) {
    const file = files[i];
    if (file === undefined) continue;
    for await (const line of linesBackward(file.handle, file.size, match !== undefined)) {
      lastEnd ??= { file: i, offset: line.offset + line.length };
      if (remaining === 0) return lastEnd;
      if (line.length > MAX_LINE_BYTES) continue;
      if (match !== undefined && (line.text === undefined || !match(line.text))) continue;
      remaining -= 1;
      if (remaining === 0) return { file: i, offset: line.offset };
    }
  }
  // tailLines=0 on an empty log, or fewer matching lines than asked: everything.
  return remaining === 0 ? { file: files.length, offset: 0 } : { file: 0, offset: 0 };
}
