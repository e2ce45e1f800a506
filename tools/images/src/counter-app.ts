/** Port the counter actor listens on inside the sandbox (upstream's counter demo uses 80). */
export const COUNTER_PORT = 80;

/**
 * The counter's durable dir: the file counter lives in `<dir>/a.txt`. The environment variable
 * `COUNTER_DIR` moves it (and `COUNTER_PORT` the port), so that two counters can share one sandbox.
 */
export const COUNTER_DURABLE_DIR = '/home/counter';

/** Where the counter's script lives inside the image. */
export const COUNTER_SCRIPT_PATH = '/app/counter.js';

/**
 * The counter actor, upstream's counter demo (reference §6.1) in Node.js:
 *
 * - any request except the two below: read the integer in `/home/counter/a.txt` (0 when missing), add 1
 *   and write it back (-1 when that fails, e.g. no durable dir), add 1 to the in-memory counter, answer
 *   `hello from: <first non-loopback IPv4> | preserved memory count: <N> | preserved file counter: <M>\n`;
 * - `GET /readyz`: 503 `not ready` until start-up finished, then 200 `ok\n` (the flag is in memory, so
 *   a restored counter is ready at once);
 * - `GET /id`: the content of `/run/ate/actor-id` (the actor's identity, re-mounted on every restore).
 *
 * `COUNTER_PORT` and `COUNTER_DIR` in the environment replace the port and the durable dir.
 *
 * At start-up it writes 1 MiB of random bytes to `/random-content-file` (a rootfs write, kept only by a
 * Full snapshot) and logs its sha256 every `TICK_MS` (10 s) as a JSON line with a tick `count`. Every
 * request is logged as a JSON line too; the start-up line is plain text.
 *
 * `COUNTER_BALLAST_MB` (default 0) makes it hold that many MiB of an agent's kind of memory before it
 * listens, so that its checkpoint is a realistic image of a busy agent (the snapshot benchmark's workload).
 * By bytes: half conversation turns as JS objects whose text draws words from a generated vocabulary with a
 * skewed (Zipf-like) frequency (zstd -1 compresses it about 3x, like English prose), 35% JSON tool results
 * kept as strings, 15% float32 embedding vectors (barely compressible). A seeded generator makes it the same
 * on every start.
 */
export const COUNTER_SOURCE = `'use strict';
const http = require('node:http');
const fs = require('node:fs');
const os = require('node:os');
const crypto = require('node:crypto');

const PORT = Number(process.env.COUNTER_PORT || ${COUNTER_PORT});
const FILE = (process.env.COUNTER_DIR || '${COUNTER_DURABLE_DIR}') + '/a.txt';
const BALLAST_MB = Number(process.env.COUNTER_BALLAST_MB || 0);
let memory = 0;
let ready = false;
let ticks = 0;
const ballast = [];

function fillBallast(bytes) {
  let seed = 0x5eed;
  const rand = () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const syllables = ['ka', 'to', 're', 'mi', 'sun', 'pla', 'ver', 'on', 'de', 'li', 'an', 'gor', 'es', 'tri', 'u', 'mo', 'ba', 'ne', 'ist', 'cal'];
  const words = [];
  for (let i = 0; i < 4000; i++) {
    let word = '';
    for (let n = 1 + Math.floor(rand() * 3); n > 0; n--) word += syllables[Math.floor(rand() * syllables.length)];
    words.push(word);
  }
  const word = () => words[Math.floor(words.length * Math.pow(rand(), 3))];
  const sentence = () => {
    const parts = [];
    for (let n = 4 + Math.floor(rand() * 16); n > 0; n--) parts.push(word());
    return parts.join(' ') + (rand() < 0.8 ? '. ' : '? ');
  };
  // Shares of the bytes held: conversation text, JSON tool results, embeddings. Each step adds to the kind
  // furthest below its share.
  const shares = [0.5, 0.35, 0.15];
  const held = [0, 0, 0];
  let total = 0;
  let turn = 0;
  while (total < bytes) {
    let kind = 0;
    for (let k = 1; k < shares.length; k++) if (held[k] - shares[k] * total < held[kind] - shares[kind] * total) kind = k;
    let size;
    if (kind === 0) {
      const parts = [];
      for (let n = 1 + Math.floor(rand() * 12); n > 0; n--) parts.push(sentence());
      const content = parts.join('');
      ballast.push({ role: turn % 2 === 0 ? 'user' : 'assistant', turn: turn++, at: 1.7e12 + turn * 1000, content });
      size = content.length;
    } else if (kind === 1) {
      const rows = [];
      for (let n = 1 + Math.floor(rand() * 20); n > 0; n--) {
        rows.push({ id: Math.floor(rand() * 1e9), name: word() + '-' + word(), score: rand(), tags: [word(), word()] });
      }
      const text = JSON.stringify({ tool: word(), ok: rand() < 0.9, rows });
      ballast.push(text);
      size = text.length;
    } else {
      const vector = new Float32Array(768);
      for (let i = 0; i < vector.length; i++) vector[i] = (rand() + rand() + rand() - 1.5) * 0.7;
      ballast.push(vector);
      size = vector.byteLength;
    }
    held[kind] += size;
    total += size;
  }
}

function address() {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const entry of list || []) if (entry.family === 'IPv4' && !entry.internal) return entry.address;
  }
  return 'unknown';
}

function bumpFile() {
  try {
    let current = 0;
    try {
      current = parseInt(fs.readFileSync(FILE, 'utf8').trim(), 10) || 0;
    } catch (error) {
      if (error.code !== 'ENOENT') throw error;
    }
    fs.writeFileSync(FILE, String(current + 1));
    return current + 1;
  } catch {
    return -1;
  }
}

function fshash() {
  return crypto.createHash('sha256').update(fs.readFileSync('/random-content-file')).digest('base64').replace(/=+$/, '');
}

const server = http.createServer((req, res) => {
  if (req.url === '/readyz') {
    res.statusCode = ready ? 200 : 503;
    return res.end(ready ? 'ok\\n' : 'not ready');
  }
  if (req.url === '/id') return res.end(fs.readFileSync('/run/ate/actor-id', 'utf8'));
  const file = bumpFile();
  memory += 1;
  console.log(JSON.stringify({ message: 'request', path: req.url, memory, file }));
  res.end('hello from: ' + address() + ' | preserved memory count: ' + memory + ' | preserved file counter: ' + file + '\\n');
});

fs.writeFileSync('/random-content-file', crypto.randomBytes(1 << 20));
if (BALLAST_MB > 0) {
  const began = Date.now();
  fillBallast(BALLAST_MB * 1048576);
  console.log(JSON.stringify({ message: 'ballast', mb: BALLAST_MB, items: ballast.length, ms: Date.now() - began }));
}
setInterval(() => {
  ticks += 1;
  console.log(JSON.stringify({ message: 'tick', count: ticks, fshash: fshash() }));
}, Number(process.env.TICK_MS || 10000));
server.listen(PORT, '0.0.0.0', () => {
  ready = true;
  console.log('counter listening on ' + PORT);
});
`;

/** A counter answer, parsed. */
export interface CounterReply {
  readonly from: string;
  readonly memory: number;
  readonly file: number;
}

/** Parses `hello from: … | preserved memory count: N | preserved file counter: M`. */
export function parseCounterReply(text: string): CounterReply {
  const match =
    /^hello from: (\S+) \| preserved memory count: (-?\d+) \| preserved file counter: (-?\d+)\n?$/.exec(text);
  if (!match?.[1] || match[2] === undefined || match[3] === undefined) {
    throw new Error(`not a counter answer: ${JSON.stringify(text)}`);
  }
  return { from: match[1], memory: Number(match[2]), file: Number(match[3]) };
}
