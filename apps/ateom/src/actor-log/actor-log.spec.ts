import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@substrate/testing';
import { ActorLogFile, ContainerOutput, actorLogPath, logRecord, platformLabels } from './actor-log';

const labels = { actorId: 'counter-1', atespace: 'demo', templateNamespace: 'ns', templateName: 'counter' };
const platform = platformLabels(labels, 'web');
const now = new Date('2026-01-02T03:04:05.000Z');

function lines(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('actor log records', () => {
  it('wraps a plain line with time, stream and the platform labels', () => {
    expect(logRecord('listening on 80', 'stdout', platform, now)).toEqual({
      time: '2026-01-02T03:04:05.000Z',
      message: 'listening on 80',
      stream: 'stdout',
      labels: {
        'ate.dev/actor_id': 'counter-1',
        'ate.dev/atespace': 'demo',
        'ate.dev/actor_template_namespace': 'ns',
        'ate.dev/actor_template_name': 'counter',
        'ate.dev/container_name': 'web',
      },
    });
  });

  it('keeps the fields of a JSON line, its own time, and lets platform labels win', () => {
    const line = JSON.stringify({
      time: 'earlier',
      level: 'warn',
      stream: 'fake',
      labels: { team: 'x', 'ate.dev/actor_id': 'spoofed' },
    });
    expect(logRecord(line, 'stderr', platform, now)).toEqual({
      time: 'earlier',
      level: 'warn',
      stream: 'stderr',
      labels: { team: 'x', ...platform },
    });
  });

  it('treats JSON that is not an object, and broken JSON, as plain text', () => {
    expect(logRecord('[1,2]', 'stdout', platform, now)).toMatchObject({ message: '[1,2]' });
    expect(logRecord('{"a":1} trailing', 'stdout', platform, now)).toMatchObject({
      message: '{"a":1} trailing',
    });
  });

  it('lays logs out by atespace and actor id', () => {
    expect(actorLogPath('/logs', labels)).toBe('/logs/demo/counter-1/actor.log');
    expect(actorLogPath('/logs', { ...labels, atespace: '' })).toBe('/logs/_/counter-1/actor.log');
  });
});

describe('actor log file', () => {
  let tmp: { path: string; remove: () => void };
  beforeEach(() => (tmp = tempDir('ateom-log')));
  afterEach(() => tmp.remove());

  it('rotates by size and keeps only maxFiles rotated files, newest first', async () => {
    const path = join(tmp.path, 'demo', 'a', 'actor.log');
    const file = new ActorLogFile(path, { maxBytes: 100, maxFiles: 2 });
    for (let i = 0; i < 12; i += 1) file.write({ i, pad: 'x'.repeat(30) });
    await file.close();
    expect(readdirSync(join(tmp.path, 'demo', 'a')).sort()).toEqual([
      'actor.log',
      'actor.log.1',
      'actor.log.2',
    ]);
    // 45-byte lines, two per file: the newest file has 10 and 11, .1 has 8 and 9, .2 has 6 and 7.
    expect(lines(path).map((r) => r['i'])).toEqual([10, 11]);
    expect(lines(`${path}.1`).map((r) => r['i'])).toEqual([8, 9]);
    expect(lines(`${path}.2`).map((r) => r['i'])).toEqual([6, 7]);
    expect(existsSync(`${path}.3`)).toBe(false);
  });

  it('appends to an existing log across actor runs', async () => {
    const path = join(tmp.path, 'actor.log');
    for (const i of [1, 2]) {
      const file = new ActorLogFile(path, { maxBytes: 10_000, maxFiles: 1 });
      file.write({ i });
      await file.close();
    }
    expect(lines(path)).toEqual([{ i: 1 }, { i: 2 }]);
  });
});

describe('container output capture', () => {
  it('turns what a child writes on stdout and stderr into tagged records, including a last unterminated line', async () => {
    const tmp = tempDir('ateom-output');
    try {
      const path = join(tmp.path, 'actor.log');
      const file = new ActorLogFile(path, { maxBytes: 1 << 20, maxFiles: 1 });
      const output = await ContainerOutput.open({
        pipeDir: join(tmp.path, 'pipes'),
        container: 'web',
        file,
        labels,
      });
      const child = spawn('sh', ['-c', 'echo hello; echo \'{"level":"error","n":1}\' >&2; printf partial'], {
        stdio: ['ignore', output.stdoutFd, output.stderrFd],
      });
      output.releaseWriteEnds();
      await new Promise((resolve) => child.once('exit', resolve));
      // The reader drains the pipes asynchronously: wait until the last bytes arrived.
      while (!output.tail().includes('partial') || !output.tail().includes('"n":1'))
        await new Promise((resolve) => setImmediate(resolve));
      output.close();
      await file.close();
      const records = lines(path);
      expect(records).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ message: 'hello', stream: 'stdout', labels: platform }),
          expect.objectContaining({ level: 'error', n: 1, stream: 'stderr', labels: platform }),
          expect.objectContaining({ message: 'partial', stream: 'stdout' }),
        ]),
      );
      expect(records).toHaveLength(3);
    } finally {
      tmp.remove();
    }
  });
});
