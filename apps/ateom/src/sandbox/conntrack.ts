import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCommand } from './command';
import { CommandFailedError } from './errors';

/** The conntrack table as the kernel prints it (`/proc/net/nf_conntrack`). */
export const CONNTRACK_PATH = '/proc/net/nf_conntrack';

/** One direction of a conntrack entry: `src=… dst=… sport=… dport=…`. */
export interface ConntrackTuple {
  readonly src: string;
  readonly dst: string;
  readonly sport: number;
  readonly dport: number;
}

/** One line of the conntrack table, as far as the drain reads it. */
export interface ConntrackEntry {
  /** `tcp`, `udp`, `icmp`, ... */
  readonly protocol: string;
  /** TCP state (`ESTABLISHED`, `TIME_WAIT`, ...); absent for protocols without one. */
  readonly state?: string;
  /** The tuple of the packet that created the entry (before NAT). */
  readonly original: ConntrackTuple;
  /** The tuple replies carry (after NAT: the DNAT target is its source). */
  readonly reply: ConntrackTuple;
}

/** A TCP connection of the sandbox that is still open or closing. */
export interface OpenConnection {
  /** The sandbox's end, `169.254.17.2:<port>`. */
  readonly local: string;
  /** The peer as the sandbox sees it (in forwarded mode the host end of the worker's link). */
  readonly remote: string;
  /** Conntrack's TCP state. */
  readonly state: string;
}

/**
 * TCP states in which the sandbox's endpoint may still exist: handshake, established, or one side's FIN
 * not yet answered. `TIME_WAIT` and `CLOSE` (after a RST, or both FINs acknowledged) count as gone:
 * checked against runsc 0.0~20240729, which checkpoints after a client's reset (CLOSE) and after a close
 * the client started (TIME_WAIT on the client's side). A close the *sandbox* started also shows
 * TIME_WAIT here but leaves the sandbox's endpoint in TIME_WAIT, which runsc refuses; the table cannot
 * tell the two apart (see docs/sandbox.md).
 */
export const OPEN_TCP_STATES: ReadonlySet<string> = new Set([
  'SYN_SENT',
  'SYN_SENT2',
  'SYN_RECV',
  'ESTABLISHED',
  'FIN_WAIT',
  'CLOSE_WAIT',
  'LAST_ACK',
]);

const TUPLE_KEYS = ['src', 'dst', 'sport', 'dport'] as const;

/**
 * Parses the text of `/proc/net/nf_conntrack` (one entry a line:
 * `ipv4 2 tcp 6 <ttl> <STATE> src= dst= sport= dport= [UNREPLIED] src= dst= sport= dport= [ASSURED] …`).
 * Lines that do not have two complete tuples are skipped.
 */
export function parseConntrack(text: string): ConntrackEntry[] {
  const entries: ConntrackEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    // fields: l3 name, l3 number, l4 name, l4 number, seconds left, then the state for TCP.
    const protocol = fields[2];
    if (protocol === undefined) continue;
    const first = fields.findIndex((field) => field.includes('='));
    if (first < 5) continue;
    const state = first > 5 ? fields[5] : undefined;
    const tuples: Partial<Record<(typeof TUPLE_KEYS)[number], string>>[] = [{}, {}];
    for (const field of fields.slice(first)) {
      const eq = field.indexOf('=');
      if (eq < 0) continue;
      const key = field.slice(0, eq);
      if (!(TUPLE_KEYS as readonly string[]).includes(key)) continue;
      const k = key as (typeof TUPLE_KEYS)[number];
      // A key seen in the first tuple starts the second (reply) tuple.
      const target = tuples[0]?.[k] === undefined ? tuples[0] : tuples[1];
      if (target !== undefined && target[k] === undefined) target[k] = field.slice(eq + 1);
    }
    const [original, reply] = tuples.map(toTuple);
    if (original === undefined || reply === undefined) continue;
    entries.push({ protocol, ...(state !== undefined && { state }), original, reply });
  }
  return entries;
}

function toTuple(
  tuple: Partial<Record<(typeof TUPLE_KEYS)[number], string>> | undefined,
): ConntrackTuple | undefined {
  if (tuple?.src === undefined || tuple.dst === undefined) return undefined;
  const sport = Number(tuple.sport);
  const dport = Number(tuple.dport);
  if (!Number.isInteger(sport) || !Number.isInteger(dport)) return undefined;
  return { src: tuple.src, dst: tuple.dst, sport, dport };
}

/**
 * The TCP connections of `address` (the sandbox's inner address) that are open or closing
 * ({@link OPEN_TCP_STATES}). The sandbox is found in either tuple: as the DNAT target (reply source) of a
 * connection to the worker's endpoint, as the destination of a direct connection, or as the source of a
 * connection it opened itself.
 */
export function openConnections(entries: readonly ConntrackEntry[], address: string): OpenConnection[] {
  const open: OpenConnection[] = [];
  for (const { protocol, state, original, reply } of entries) {
    if (protocol !== 'tcp' || state === undefined || !OPEN_TCP_STATES.has(state)) continue;
    const ends: [string, number, string, number] | undefined =
      reply.src === address
        ? [reply.src, reply.sport, reply.dst, reply.dport]
        : original.src === address
          ? [original.src, original.sport, original.dst, original.dport]
          : original.dst === address
            ? [original.dst, original.dport, original.src, original.sport]
            : reply.dst === address
              ? [reply.dst, reply.dport, reply.src, reply.sport]
              : undefined;
    if (ends === undefined) continue;
    const [localAddress, localPort, remoteAddress, remotePort] = ends;
    open.push({ local: `${localAddress}:${localPort}`, remote: `${remoteAddress}:${remotePort}`, state });
  }
  return open;
}

/**
 * Reads the conntrack table of one network namespace; resolves to undefined when the namespace has no
 * table (conntrack not loaded). Other failures reject.
 */
export type ConntrackReader = () => Promise<string | undefined>;

/**
 * The reader of a named namespace's table: `nsenter --net=<path> cat /proc/net/nf_conntrack` with a
 * deadline (about 9 ms a read on these machines, the spawn; the read itself is 0.3 ms). Without a
 * namespace path, ateom's own namespace's table is read directly.
 */
export function conntrackReader(
  nsenter: string,
  namespacePath: string | undefined,
  timeoutMs = 2_000,
): ConntrackReader {
  if (namespacePath === undefined) {
    return async () => {
      try {
        return await readFile(CONNTRACK_PATH, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    };
  }
  return async () => {
    try {
      return (await runCommand(nsenter, [`--net=${namespacePath}`, 'cat', CONNTRACK_PATH], { timeoutMs }))
        .stdout;
    } catch (error) {
      if (error instanceof CommandFailedError && /no such file/i.test(error.stderr)) return undefined;
      throw error;
    }
  };
}

/** How a drain ended. */
export type ConnectionDrain =
  /** The table was read and no connection of the sandbox is open (any more). */
  | { readonly outcome: 'drained'; readonly drainMs: number; readonly polls: number }
  /** Connections still open when the bound passed; the checkpoint must not go ahead. */
  | {
      readonly outcome: 'open';
      readonly drainMs: number;
      readonly polls: number;
      readonly connections: readonly OpenConnection[];
    }
  /**
   * No conntrack table in the namespace (or it could not be read: `reason`): nothing can be checked.
   */
  | {
      readonly outcome: 'untracked';
      readonly drainMs: number;
      readonly polls: number;
      readonly reason?: string;
    };

export interface DrainOptions {
  readonly read: ConntrackReader;
  /** The sandbox's inner address. */
  readonly address: string;
  /** How long to wait for open connections to go; 0 looks once. */
  readonly timeoutMs: number;
  /** Pause between two reads. */
  readonly intervalMs?: number;
}

/**
 * Reads the conntrack table until no TCP connection of `address` is open, or until `timeoutMs` has
 * passed. The first read happens at once, so a sandbox without connections costs one read.
 */
export async function drainConnections({
  read,
  address,
  timeoutMs,
  intervalMs = 5,
}: DrainOptions): Promise<ConnectionDrain> {
  const began = performance.now();
  for (let polls = 1; ; polls += 1) {
    const text = await read();
    const drainMs = performance.now() - began;
    if (text === undefined) return { outcome: 'untracked', drainMs, polls };
    const connections = openConnections(parseConntrack(text), address);
    if (connections.length === 0) return { outcome: 'drained', drainMs, polls };
    if (drainMs >= timeoutMs) return { outcome: 'open', drainMs, polls, connections };
    await sleep(Math.min(intervalMs, timeoutMs - drainMs));
  }
}
