/** Port the shell actor listens on inside the sandbox. */
export const SHELL_PORT = 80;

/** Where the shell actor's script lives inside the image. */
export const SHELL_SCRIPT_PATH = '/app/shell.js';

/**
 * The shell actor, upstream's sandbox demo (reference §6.3) in Node.js over busybox:
 *
 * - `POST /process` with JSON `{"command": [...], "envvars": {...}, "cwd": "...", "timeout": "1s"}` runs the
 *   command (no shell unless the command is `["sh", "-c", ...]`) and answers
 *   `{"stdout", "stderr", "exitCode"}` (`exitCode` -1 and `error` set when it could not run or timed out);
 *   400 for bad JSON, an empty command or a bad timeout;
 * - `GET /readyz`: 200 `ok\n`.
 *
 * Files the commands write in the rootfs live in sandbox memory and travel in a Full snapshot.
 */
export const SHELL_SOURCE = `'use strict';
const http = require('node:http');
const { spawnSync } = require('node:child_process');

function duration(text) {
  if (text === undefined || text === '') return 10000;
  const match = /^(\\d+(?:\\.\\d+)?)(ms|s|m)$/.exec(String(text));
  if (!match) return undefined;
  return Number(match[1]) * { ms: 1, s: 1000, m: 60000 }[match[2]];
}

function answer(res, status, body) {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}

http
  .createServer((req, res) => {
    if (req.url === '/readyz') return res.end('ok\\n');
    if (req.url !== '/process' || req.method !== 'POST') return answer(res, 404, { error: 'not found' });
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      let request;
      try {
        request = JSON.parse(body);
      } catch {
        return answer(res, 400, { error: 'invalid JSON' });
      }
      const command = Array.isArray(request.command) ? request.command.map(String) : [];
      if (command.length === 0) return answer(res, 400, { error: 'command is required' });
      const timeout = duration(request.timeout);
      if (timeout === undefined) return answer(res, 400, { error: 'invalid timeout' });
      const result = spawnSync(command[0], command.slice(1), {
        cwd: request.cwd || '/',
        env: { PATH: '/bin', ...(request.envvars || {}) },
        timeout,
        encoding: 'utf8',
      });
      const failed = result.error !== undefined || result.status === null;
      answer(res, 200, {
        stdout: result.stdout || '',
        stderr: result.stderr || '',
        exitCode: failed ? -1 : result.status,
        ...(failed && { error: result.error ? result.error.message : 'killed by ' + result.signal }),
      });
    });
  })
  .listen(${SHELL_PORT}, '0.0.0.0', () => console.log('shell listening on ${SHELL_PORT}'));
`;
