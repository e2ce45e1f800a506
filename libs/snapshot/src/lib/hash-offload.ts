import { createHash, type Hash } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * SHA-256 on a worker thread, so hashing a snapshot file's data runs beside zstd on the main thread instead of
 * after it. Bytes are copied into a ring buffer in shared memory (one `memcpy`, far cheaper than hashing) and
 * the worker hashes them in order. Workers are kept in a small pool and reused; an idle worker does not keep
 * the process alive.
 */

/** Bytes of the shared ring: a power of two, so positions are `counter & (RING - 1)`. */
const RING = 8 * 1024 * 1024;
/** Int32 slots before the ring: produced counter, consumed counter, state, sequence, worker asleep. */
const HEAD = 0;
const TAIL = 1;
const STATE = 2;
const SEQ = 3;
const WAITING = 4;
const CONTROL_BYTES = 32;
/**
 * A sleeping worker is woken once this many bytes wait for it (or at the end): waking a thread costs a system
 * call and a context switch, far too much to pay for every decoded slice.
 */
const WAKE_BYTES = 1024 * 1024;
const FINISHED = 1;
const CANCELLED = 2;
/** Idle workers kept for reuse. */
const POOL_SIZE = 4;
/** Workers at most; a job that finds them all busy hashes inline. */
const MAX_WORKERS = 4;
/** Below this many bytes a hash is computed inline: handing it to a thread would cost more than it saves. */
export const OFFLOAD_MIN_BYTES = 4 * 1024 * 1024;

// Plain JavaScript, evaluated by the worker: no build step, works under every loader and test runner.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
parentPort.on('message', ({ sab, ring }) => {
  const control = new Int32Array(sab, 0, ${CONTROL_BYTES / 4});
  const data = new Uint8Array(sab, ${CONTROL_BYTES}, ring);
  const hash = createHash('sha256');
  let tail = Atomics.load(control, ${TAIL});
  for (;;) {
    const seq = Atomics.load(control, ${SEQ});
    const state = Atomics.load(control, ${STATE});
    if (state === ${CANCELLED}) { parentPort.postMessage({ cancelled: true }); return; }
    const head = Atomics.load(control, ${HEAD});
    const available = (head - tail) | 0;
    if (available > 0) {
      const position = tail & (ring - 1);
      const first = Math.min(available, ring - position);
      hash.update(data.subarray(position, position + first));
      if (first < available) hash.update(data.subarray(0, available - first));
      tail = (tail + available) | 0;
      Atomics.store(control, ${TAIL}, tail);
      Atomics.notify(control, ${TAIL});
      continue;
    }
    if (state === ${FINISHED}) { parentPort.postMessage({ digest: hash.digest('hex') }); return; }
    // Announce the nap, then look once more: the producer either sees the flag and wakes us, or we see its
    // newer sequence number and do not sleep (both sides use sequentially consistent atomics).
    Atomics.store(control, ${WAITING}, 1);
    if (Atomics.load(control, ${SEQ}) === seq) Atomics.wait(control, ${SEQ}, seq);
    Atomics.store(control, ${WAITING}, 0);
  }
});
`;

type WorkerAnswer = { digest: string } | { cancelled: true };

/** A worker and its ring, reused together. */
interface HashWorker {
  readonly worker: Worker;
  readonly sab: SharedArrayBuffer;
}

const idle: HashWorker[] = [];
/** Workers alive (busy or idle); at most {@link MAX_WORKERS}, beyond that jobs hash inline. */
let live = 0;
let workersUnavailable = false;

function acquireWorker(): HashWorker | undefined {
  const reused = idle.pop();
  if (reused !== undefined) return reused;
  if (workersUnavailable || live >= MAX_WORKERS) return undefined;
  try {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    live++;
    worker.once('exit', () => live--);
    return { worker, sab: new SharedArrayBuffer(CONTROL_BYTES + RING) };
  } catch {
    workersUnavailable = true; // e.g. a sandbox without threads: hash inline from now on
    return undefined;
  }
}

function releaseWorker(entry: HashWorker): void {
  entry.worker.unref();
  if (idle.length < POOL_SIZE) idle.push(entry);
  else void entry.worker.terminate();
}

/**
 * True when the machine seems to have a core to spare (1-minute load average at least one below the cores
 * available). The worker only pays off then: handing the bytes over costs some 10–20% more CPU in all, so on
 * a machine whose cores are all busy, hashing inline is as fast and cheaper.
 */
function spareCore(): boolean {
  const [load = 0] = loadavg();
  return availableParallelism() - load >= 1;
}

/** `Atomics.waitAsync` (ES2024; in Node since 16), typed here because the project's lib is ES2023. */
type WaitAsync = (
  array: Int32Array,
  index: number,
  value: number,
) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;

/**
 * An incremental SHA-256 whose work happens on a pooled worker thread (or inline, where workers or
 * `Atomics.waitAsync` are unavailable). Call {@link update} in order (awaiting what it returns), then
 * {@link digest} once, or {@link cancel} to abandon it. The bytes passed to `update` are copied at once, so the
 * caller may reuse its buffer.
 */
export class Sha256Offload {
  private readonly inline: Hash | undefined;
  private readonly entry: HashWorker | undefined;
  private readonly control: Int32Array | undefined;
  private readonly ring: Buffer | undefined;
  private readonly answer: Promise<WorkerAnswer> | undefined;
  private head = 0;
  /** `head` when the worker was last woken. */
  private woken = 0;
  private done = false;

  /**
   * `expectedBytes`: about how much will be hashed; small jobs are hashed inline. `when`: use a worker only
   * when a core seems spare (the default), or whenever one is free in the pool (tests).
   */
  constructor(expectedBytes: number, when: 'spare-core' | 'always' = 'spare-core') {
    const worth = expectedBytes >= OFFLOAD_MIN_BYTES && (when === 'always' || spareCore());
    const entry = waitAsync !== undefined && worth ? acquireWorker() : undefined;
    if (entry === undefined) {
      this.inline = createHash('sha256');
      return;
    }
    const { worker, sab } = entry;
    this.entry = entry;
    this.control = new Int32Array(sab, 0, CONTROL_BYTES / 4);
    this.control.fill(0);
    this.ring = Buffer.from(sab, CONTROL_BYTES, RING);
    this.answer = new Promise<WorkerAnswer>((resolve, reject) => {
      const onMessage = (message: WorkerAnswer): void => {
        worker.off('error', onError);
        resolve(message);
      };
      const onError = (error: Error): void => {
        worker.off('message', onMessage);
        reject(error);
      };
      worker.once('message', onMessage);
      worker.once('error', onError);
    });
    this.answer.catch(() => undefined); // observed by digest() or dropped by cancel()
    worker.ref(); // the job keeps the process alive until its answer arrives
    worker.postMessage({ sab, ring: RING });
  }

  /** Adds `data`; resolves (when it returns a promise) once all of it is in the ring. */
  update(data: Uint8Array): Promise<void> | undefined {
    if (this.inline !== undefined) {
      this.inline.update(data);
      return undefined;
    }
    const free = RING - ((this.head - Atomics.load(this.control as Int32Array, TAIL)) | 0);
    if (data.length <= free) {
      this.put(data);
      return undefined;
    }
    return this.updateSlowly(data);
  }

  private async updateSlowly(data: Uint8Array): Promise<void> {
    const control = this.control as Int32Array;
    let rest = data;
    while (rest.length > 0) {
      const tail = Atomics.load(control, TAIL);
      const free = RING - ((this.head - tail) | 0);
      if (free === 0) {
        const wait = (waitAsync as WaitAsync)(control, TAIL, tail);
        if (wait.async) await wait.value;
        continue;
      }
      const piece = rest.subarray(0, Math.min(free, rest.length));
      this.put(piece);
      rest = rest.subarray(piece.length);
    }
  }

  /** Copies `data` (which fits) into the ring and tells the worker. */
  private put(data: Uint8Array): void {
    const ring = this.ring as Buffer;
    const control = this.control as Int32Array;
    const position = this.head & (RING - 1);
    const first = Math.min(data.length, RING - position);
    ring.set(data.subarray(0, first), position);
    if (first < data.length) ring.set(data.subarray(first), 0);
    this.head = (this.head + data.length) | 0;
    Atomics.store(control, HEAD, this.head);
    Atomics.add(control, SEQ, 1);
    if (Atomics.load(control, WAITING) === 1 && ((this.head - this.woken) | 0) >= WAKE_BYTES) {
      this.woken = this.head;
      Atomics.notify(control, SEQ);
    }
  }

  /** Publishes a state change and wakes the worker whatever it is doing. */
  private signal(): void {
    const control = this.control as Int32Array;
    Atomics.add(control, SEQ, 1);
    Atomics.notify(control, SEQ);
  }

  /** The hex digest of everything passed to {@link update}. */
  async digest(): Promise<string> {
    if (this.inline !== undefined) return this.inline.digest('hex');
    this.done = true;
    Atomics.store(this.control as Int32Array, STATE, FINISHED);
    this.signal();
    const entry = this.entry as HashWorker;
    let answer: WorkerAnswer;
    try {
      answer = await (this.answer as Promise<WorkerAnswer>);
    } catch (error) {
      void entry.worker.terminate();
      throw error;
    }
    releaseWorker(entry);
    if ('digest' in answer) return answer.digest;
    throw new Error('sha256 worker cancelled a job it was asked to finish');
  }

  /** Abandons the hash and returns the worker to the pool. Safe to call more than once. */
  cancel(): void {
    if (this.inline !== undefined || this.done) return;
    this.done = true;
    Atomics.store(this.control as Int32Array, STATE, CANCELLED);
    this.signal();
    const entry = this.entry as HashWorker;
    (this.answer as Promise<WorkerAnswer>).then(
      () => releaseWorker(entry),
      () => void entry.worker.terminate(),
    );
  }
}
