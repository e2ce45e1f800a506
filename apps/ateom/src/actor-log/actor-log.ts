import { constants, openSync, closeSync } from 'node:fs';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { runCommand, type SandboxOutput } from '../sandbox';

/** Who a log line belongs to. */
export interface ActorLabels {
  readonly actorId: string;
  /** Empty from an upstream atelet. */
  readonly atespace: string;
  readonly templateNamespace: string;
  readonly templateName: string;
}

/** The lifecycle events ateom writes into the actor's log (upstream's messages). */
export type LifecycleEvent =
  | 'Actor starting'
  | 'Actor started'
  | 'Actor checkpointing'
  | 'Actor checkpointed'
  | 'Actor restoring'
  | 'Actor restored'
  | 'Actor stopped';

export interface LogRotation {
  /** `actor.log` is rotated once the next line would take it past this size. */
  readonly maxBytes: number;
  /** Rotated files kept: `actor.log.1` (newest) … `actor.log.<maxFiles>`. */
  readonly maxFiles: number;
}

/** The directory name used for an actor without an atespace (an upstream atelet sends none). */
export const NO_ATESPACE_DIR = '_';

/** `<logDir>/<atespace or _>/<actorId>/actor.log`: where an actor's log lives on the node. */
export function actorLogPath(logDir: string, labels: Pick<ActorLabels, 'atespace' | 'actorId'>): string {
  return join(
    logDir,
    labels.atespace === '' ? NO_ATESPACE_DIR : labels.atespace,
    labels.actorId,
    'actor.log',
  );
}

/** The `labels` object of every line (platform labels; they win over an actor's own `labels`). */
export function platformLabels(labels: ActorLabels, container?: string): Record<string, string> {
  return {
    'ate.dev/actor_id': labels.actorId,
    'ate.dev/atespace': labels.atespace,
    'ate.dev/actor_template_namespace': labels.templateNamespace,
    'ate.dev/actor_template_name': labels.templateName,
    ...(container !== undefined && { 'ate.dev/container_name': container }),
  };
}

/**
 * One line of actor output as a JSON record. A line that is a JSON object keeps its fields (`time` added
 * when missing, `labels` merged with the platform's winning); any other line becomes
 * `{"time", "message"}`. `stream` is always the platform's (`stdout` or `stderr`).
 */
export function logRecord(
  line: string,
  stream: 'stdout' | 'stderr',
  labels: Record<string, string>,
  now: Date = new Date(),
): Record<string, unknown> {
  let parsed: unknown;
  const trimmed = line.trim();
  if (trimmed.startsWith('{') && trimmed.endsWith('}')) {
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      parsed = undefined;
    }
  }
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const fields = parsed as Record<string, unknown>;
    const own = fields['labels'];
    const ownLabels = own !== null && typeof own === 'object' && !Array.isArray(own) ? own : {};
    return {
      time: now.toISOString(),
      ...fields,
      stream,
      labels: { ...ownLabels, ...labels },
    };
  }
  return { time: now.toISOString(), message: line, stream, labels };
}

/**
 * An actor's log file: JSON lines appended in order, rotated by size (`actor.log` → `actor.log.1` → …,
 * the oldest dropped). Writes are queued and never throw at the caller; a failure is reported once
 * through `onError`.
 */
export class ActorLogFile {
  private handle: FileHandle | undefined;
  private size = 0;
  private queue: Promise<void> = Promise.resolve();
  private failed = false;

  constructor(
    readonly path: string,
    private readonly rotation: LogRotation,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  /** Queues one record. */
  write(record: Record<string, unknown>): void {
    const line = `${JSON.stringify(record)}\n`;
    this.queue = this.queue.then(
      () => this.append(line),
      () => undefined,
    );
    this.queue = this.queue.catch((error: unknown) => {
      if (!this.failed) this.onError(error);
      this.failed = true;
    });
  }

  /** Resolves once every queued record is written. */
  flush(): Promise<void> {
    return this.queue;
  }

  /** Flushes and closes the file. */
  async close(): Promise<void> {
    await this.flush();
    await this.handle?.close();
    this.handle = undefined;
  }

  private async append(line: string): Promise<void> {
    const bytes = Buffer.byteLength(line);
    if (this.handle === undefined) {
      await mkdir(join(this.path, '..'), { recursive: true, mode: 0o755 });
      this.handle = await open(this.path, 'a', 0o640);
      this.size = (await this.handle.stat()).size;
    }
    if (this.size > 0 && this.size + bytes > this.rotation.maxBytes) await this.rotate();
    await this.handle?.write(line);
    this.size += bytes;
  }

  private async rotate(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
    const { maxFiles } = this.rotation;
    await rm(`${this.path}.${maxFiles}`, { force: true });
    for (let i = maxFiles - 1; i >= 1; i -= 1) {
      await rename(`${this.path}.${i}`, `${this.path}.${i + 1}`).catch((error: { code?: string }) => {
        if (error.code !== 'ENOENT') throw error;
      });
    }
    await rename(this.path, `${this.path}.1`);
    this.handle = await open(this.path, 'a', 0o640);
    this.size = 0;
  }
}

const MAX_LINE = 64 * 1024;
const TAIL_BYTES = 2_048;

/**
 * The stdout and stderr of one container, captured into the actor's log. Each stream is a FIFO under
 * `pipeDir`: ateom reads it (opened read-write, so the read side never sees end-of-file between
 * writers) and hands the write end to runsc, which passes it on to the sandboxed process. Lines are
 * turned into records by {@link logRecord}; a line longer than 64 KiB is cut into pieces.
 */
export class ContainerOutput implements SandboxOutput {
  private readonly readers: Socket[] = [];
  private writeFds: number[] = [];
  private recent = '';
  /** The unterminated end of each stream, written out on close. */
  private readonly partial = { stdout: '', stderr: '' };

  private constructor(
    readonly description: string,
    private readonly file: ActorLogFile,
    private readonly labels: Record<string, string>,
  ) {}

  /** Creates the FIFOs (`mkfifo`) and starts reading them. */
  static async open(options: {
    pipeDir: string;
    container: string;
    file: ActorLogFile;
    labels: ActorLabels;
    mkfifo?: string;
  }): Promise<ContainerOutput> {
    const { pipeDir, container, file } = options;
    const output = new ContainerOutput(file.path, file, platformLabels(options.labels, container));
    await mkdir(pipeDir, { recursive: true, mode: 0o700 });
    const streams = ['stdout', 'stderr'] as const;
    const fifos = streams.map((stream) => join(pipeDir, `${container}.${stream}`));
    try {
      for (const fifo of fifos) await rm(fifo, { force: true });
      // Both in one process: a restore waits for this before runsc starts.
      await runCommand(options.mkfifo ?? 'mkfifo', ['-m', '0600', ...fifos], { timeoutMs: 5_000 });
      streams.forEach((stream, i) => {
        const fifo = fifos[i] as string;
        output.read(fifo, stream);
        // The reader exists, so opening the write end does not block.
        output.writeFds.push(openSync(fifo, constants.O_WRONLY));
      });
    } catch (error) {
      output.close();
      throw error;
    }
    return output;
  }

  get stdoutFd(): number {
    return this.fd(0);
  }

  get stderrFd(): number {
    return this.fd(1);
  }

  tail(): string {
    return this.recent;
  }

  /** Closes ateom's copies of the write ends, once runsc has passed them to the sandbox. */
  releaseWriteEnds(): void {
    for (const fd of this.writeFds) closeSync(fd);
    this.writeFds = [];
  }

  /** Stops reading (after the sandbox is gone), writes out unterminated lines, closes every descriptor. */
  close(): void {
    this.releaseWriteEnds();
    for (const reader of this.readers) reader.destroy();
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream] !== '') this.file.write(logRecord(this.partial[stream], stream, this.labels));
      this.partial[stream] = '';
    }
  }

  private fd(index: number): number {
    const fd = this.writeFds[index];
    if (fd === undefined) throw new Error('container output: write ends already released');
    return fd;
  }

  private read(fifo: string, stream: 'stdout' | 'stderr'): void {
    const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    const reader = new Socket({ fd, readable: true, writable: false });
    this.readers.push(reader);
    reader.setEncoding('utf8');
    reader.on('data', (chunk: string) => {
      this.recent = (this.recent + chunk).slice(-TAIL_BYTES);
      let partial = this.partial[stream] + chunk;
      let newline = partial.indexOf('\n');
      while (newline >= 0 || partial.length > MAX_LINE) {
        const end = newline >= 0 ? newline : MAX_LINE;
        this.file.write(logRecord(partial.slice(0, end), stream, this.labels));
        partial = partial.slice(newline >= 0 ? end + 1 : end);
        newline = partial.indexOf('\n');
      }
      this.partial[stream] = partial;
    });
    // A read error ends the capture of this stream; the sandbox keeps running.
    reader.on('error', () => undefined);
  }
}
