import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Port the counter server listens on inside the sandbox. */
export const COUNTER_PORT = 8080;

/**
 * The counter actor: an in-memory counter and a file counter (one byte appended per request to
 * `/data/count`, in the rootfs, whose writes live in sandbox memory and travel in the checkpoint).
 * `GET /` answers `{"memory":N,"file":M}`, `GET /id` the content of /run/ate/actor-id, `GET /readyz` ok.
 */
const COUNTER_SCRIPT = `
const http = require('node:http');
const fs = require('node:fs');
let memory = 0;
const file = '/data/count';
http
  .createServer((req, res) => {
    if (req.url === '/readyz') return res.end('ok');
    if (req.url === '/id') return res.end(fs.readFileSync('/run/ate/actor-id', 'utf8'));
    memory += 1;
    fs.appendFileSync(file, 'x');
    const body = JSON.stringify({ memory, file: fs.statSync(file).size });
    console.log('request', req.url, body);
    res.setHeader('content-type', 'application/json');
    res.end(body);
  })
  .listen(${COUNTER_PORT}, '0.0.0.0', () => console.log('counter listening on ${COUNTER_PORT}'));
`;

/** Shared libraries `ldd` lists for an executable (absolute paths). */
async function sharedLibraries(executable: string): Promise<string[]> {
  const { stdout } = await execFileAsync('ldd', [executable], { timeout: 10_000 });
  return [...stdout.matchAll(/(\/\S+)\s+\(0x/g)].map((match) => match[1]).filter((p): p is string => !!p);
}

async function copyInto(rootfs: string, hostPath: string, inside = hostPath): Promise<void> {
  const target = join(rootfs, inside);
  await mkdir(dirname(target), { recursive: true });
  await copyFile(hostPath, target);
  await chmod(target, 0o755);
}

/**
 * Builds a tiny root filesystem under `rootfs`: busybox-static as /bin/sh, this Node.js binary with the
 * shared libraries it needs, and the counter script at /app/counter.js.
 */
export async function buildCounterRootfs(rootfs: string, busybox: string): Promise<{ args: string[] }> {
  for (const dir of ['bin', 'app', 'data', 'proc', 'sys', 'dev', 'tmp', 'etc', 'run/ate']) {
    await mkdir(join(rootfs, dir), { recursive: true });
  }
  await copyInto(rootfs, busybox, '/bin/busybox');
  await symlink('busybox', join(rootfs, 'bin/sh'));
  await copyInto(rootfs, process.execPath, '/bin/node');
  for (const library of await sharedLibraries(process.execPath)) await copyInto(rootfs, library);
  await writeFile(join(rootfs, 'app/counter.js'), COUNTER_SCRIPT);
  await writeFile(join(rootfs, 'etc/hostname'), 'runsc\n');
  return { args: ['/bin/node', '/app/counter.js'] };
}
