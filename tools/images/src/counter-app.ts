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
 */
export const COUNTER_SOURCE = `'use strict';
const http = require('node:http');
const fs = require('node:fs');
const os = require('node:os');
const crypto = require('node:crypto');

const PORT = Number(process.env.COUNTER_PORT || ${COUNTER_PORT});
const FILE = (process.env.COUNTER_DIR || '${COUNTER_DURABLE_DIR}') + '/a.txt';
let memory = 0;
let ready = false;
let ticks = 0;

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
