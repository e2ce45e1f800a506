import { appendFileSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@substrate/testing';
import { ActorLogNotFoundError } from '../errors/atelet-error';
import { MAX_LINE_BYTES, openActorLog, type ActorLog, type ActorLogQuery } from './actor-log-reader';

/** One line as ateom writes it (apps/ateom/src/actor-log): JSON with time, message, stream, labels. */
function line(message: string, options: { container?: string; time?: string } = {}): string {
  return `${JSON.stringify({
    time: options.time ?? '2026-11-30T10:00:00.000Z',
    message,
    stream: options.container === undefined ? 'lifecycle' : 'stdout',
    labels: {
      'ate.dev/actor_id': 'a1',
      'ate.dev/atespace': 'demo',
      ...(options.container !== undefined && { 'ate.dev/container_name': options.container }),
    },
  })}\n`;
}

function messages(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { message: string }).message);
}

async function readAll(log: ActorLog, query: ActorLogQuery = {}): Promise<string[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of log.lines(query)) chunks.push(chunk);
  return messages(Buffer.concat(chunks).toString('utf8'));
}

/** A follow read that the test drives: `next(n)` waits for n more messages. */
function follow(log: ActorLog, query: ActorLogQuery = {}) {
  const controller = new AbortController();
  const iterator = log.lines({ ...query, follow: true }, { signal: controller.signal, pollIntervalMs: 10 });
  let buffered: string[] = [];
  let partial = '';
  return {
    async next(count: number): Promise<string[]> {
      const deadline = Date.now() + 5_000;
      while (buffered.length < count) {
        if (Date.now() > deadline)
          throw new Error(`only ${buffered.length} of ${count} lines: ${buffered.join(',')}`);
        const result = await iterator.next();
        if (result.done === true) throw new Error('the follow ended');
        const text = partial + result.value.toString('utf8');
        const end = text.lastIndexOf('\n') + 1;
        partial = text.slice(end);
        buffered.push(...messages(text.slice(0, end)));
      }
      const out = buffered.slice(0, count);
      buffered = buffered.slice(count);
      return out;
    },
    async stop(): Promise<void> {
      controller.abort();
      await iterator.return(undefined);
    },
  };
}

describe('actor log reader', () => {
  let tmp: { path: string; remove: () => void };
  let logDir: string;
  let dir: string;
  const file = (name = 'actor.log') => join(dir, name);
  const write = (name: string, ...lines: string[]) => writeFileSync(file(name), lines.join(''));
  /** ateom's rotation (ActorLogFile.rotate): drop the oldest, shift the others up, start a new file. */
  const rotate = (maxFiles: number) => {
    rmSync(file(`actor.log.${maxFiles}`), { force: true });
    for (let i = maxFiles - 1; i >= 1; i -= 1) {
      try {
        renameSync(file(`actor.log.${i}`), file(`actor.log.${i + 1}`));
      } catch {
        // not there yet
      }
    }
    renameSync(file(), file('actor.log.1'));
    writeFileSync(file(), '');
  };

  beforeEach(() => {
    tmp = tempDir('actor-log-reader');
    logDir = join(tmp.path, 'logs');
    dir = join(logDir, 'demo', 'a1');
    mkdirSync(dir, { recursive: true });
  });
  afterEach(() => tmp.remove());

  it('reads the rotated files oldest first, then actor.log', async () => {
    write('actor.log.3', line('1'), line('2'));
    write('actor.log.2', line('3'));
    write('actor.log.1', line('4'), line('5'));
    write('actor.log', line('6'));
    writeFileSync(file('actor.log.tmp'), line('not a log file'));
    const log = await openActorLog(logDir, 'demo', 'a1');
    expect(await readAll(log)).toEqual(['1', '2', '3', '4', '5', '6']);
  });

  it('reads an actor without atespace from _', async () => {
    mkdirSync(join(logDir, '_', 'a2'), { recursive: true });
    writeFileSync(join(logDir, '_', 'a2', 'actor.log'), line('upstream'));
    expect(await readAll(await openActorLog(logDir, '', 'a2'))).toEqual(['upstream']);
  });

  it('tails across files, and returns everything when there are fewer lines', async () => {
    write('actor.log.2', line('1'), line('2'));
    write('actor.log.1', line('3'), line('4'), line('5'));
    write('actor.log', line('6'), line('7'));
    const log = await openActorLog(logDir, 'demo', 'a1');
    expect(await readAll(log, { tailLines: 1 })).toEqual(['7']);
    expect(await readAll(log, { tailLines: 2 })).toEqual(['6', '7']);
    expect(await readAll(log, { tailLines: 4 })).toEqual(['4', '5', '6', '7']);
    expect(await readAll(log, { tailLines: 6 })).toEqual(['2', '3', '4', '5', '6', '7']);
    expect(await readAll(log, { tailLines: 100 })).toEqual(['1', '2', '3', '4', '5', '6', '7']);
    expect(await readAll(log, { tailLines: 0 })).toEqual([]);
    write('actor.log');
    expect(await readAll(log, { tailLines: 3 })).toEqual(['3', '4', '5']);
  });

  it('tails a log of many chunks exactly (lines across the 64 KiB reads)', async () => {
    const all = Array.from({ length: 3_000 }, (_, i) => `${i}:${'x'.repeat((i * 37) % 700)}`);
    write('actor.log.1', ...all.slice(0, 1_000).map((m) => line(m)));
    write('actor.log', ...all.slice(1_000).map((m) => line(m)));
    const log = await openActorLog(logDir, 'demo', 'a1');
    for (const n of [1, 2, 999, 1_000, 1_001, 1_777, 2_999]) {
      expect(await readAll(log, { tailLines: n })).toEqual(all.slice(-n));
    }
    expect(await readAll(log)).toEqual(all);
  });

  it('filters by container (lifecycle lines have none) and by time, before taking the tail', async () => {
    write(
      'actor.log.1',
      line('Actor starting', { time: '2026-11-30T10:00:00.000Z' }),
      line('web 1', { container: 'web', time: '2026-11-30T10:00:01.000Z' }),
      line('side 1', { container: 'side', time: '2026-11-30T10:00:02.000Z' }),
    );
    write(
      'actor.log',
      line('web 2', { container: 'web', time: '2026-11-30T10:00:03.000Z' }),
      line('Actor started', { time: '2026-11-30T10:00:04.000Z' }),
      line('side 2', { container: 'side', time: '2026-11-30T10:00:05.000Z' }),
      line('own time', { container: 'web', time: 'yesterday' }),
      'not json\n',
    );
    const log = await openActorLog(logDir, 'demo', 'a1');
    expect(await readAll(log, { container: 'web' })).toEqual(['web 1', 'web 2', 'own time']);
    expect(await readAll(log, { container: 'web', tailLines: 2 })).toEqual(['web 2', 'own time']);
    expect(await readAll(log, { container: 'side', tailLines: 1 })).toEqual(['side 2']);
    const since = Date.parse('2026-11-30T10:00:02.000Z');
    expect(await readAll(log, { sinceMs: since })).toEqual(['side 1', 'web 2', 'Actor started', 'side 2']);
    expect(await readAll(log, { sinceMs: since, container: 'web' })).toEqual(['web 2']);
    expect(await readAll(log, { sinceMs: since, tailLines: 2 })).toEqual(['Actor started', 'side 2']);
  });

  it('leaves an unterminated last line for later, and skips a line over the limit', async () => {
    const huge = line('x'.repeat(MAX_LINE_BYTES));
    write('actor.log', line('1'), huge, line('2'), '{"message":"half');
    const log = await openActorLog(logDir, 'demo', 'a1');
    expect(await readAll(log)).toEqual(['1', '2']);
    expect(await readAll(log, { tailLines: 2 })).toEqual(['1', '2']);
  });

  it('follows appended lines, a rotation and two rotations between two looks', async () => {
    write('actor.log.1', line('old'));
    write('actor.log', line('1'), '{"message":"2",');
    const log = await openActorLog(logDir, 'demo', 'a1');
    const reader = follow(log, { tailLines: 1 });
    try {
      expect(await reader.next(1)).toEqual(['1']);
      appendFileSync(file(), '"time":"2026-11-30T10:00:00.000Z"}\n');
      expect(await reader.next(1)).toEqual(['2']);
      appendFileSync(file(), line('3'));
      rotate(3);
      appendFileSync(file(), line('4'));
      expect(await reader.next(2)).toEqual(['3', '4']);
      // Synchronously, so the reader cannot look in between: 4 and 5 end up in actor.log.2.
      appendFileSync(file(), line('5'));
      rotate(3);
      appendFileSync(file(), line('6'));
      rotate(3);
      appendFileSync(file(), line('7'));
      expect(await reader.next(3)).toEqual(['5', '6', '7']);
      // Rotated out of the kept files while unread: the open file still gives its rest, then the kept ones.
      appendFileSync(file(), line('8'));
      for (const next of ['9', '10', '11', '12']) {
        rotate(3);
        appendFileSync(file(), line(next));
      }
      expect(await reader.next(5)).toEqual(['8', '9', '10', '11', '12']);
    } finally {
      await reader.stop();
    }
  });

  it('follows an actor whose log is not written yet, and stops when aborted', async () => {
    const log = await openActorLog(logDir, 'demo', 'a1');
    const reader = follow(log, { container: 'web' });
    try {
      write('actor.log', line('Actor starting'), line('hello', { container: 'web' }));
      expect(await reader.next(1)).toEqual(['hello']);
    } finally {
      await reader.stop();
    }
    const controller = new AbortController();
    const running = (async () => {
      const seen: Buffer[] = [];
      for await (const chunk of log.lines(
        { follow: true },
        { signal: controller.signal, pollIntervalMs: 10 },
      ))
        seen.push(chunk);
      return seen.length;
    })();
    setTimeout(() => controller.abort(), 50);
    expect(await running).toBe(1);
  });

  it('refuses an actor without log dir, and never follows a symlink out of the log dir', async () => {
    const outside = join(tmp.path, 'outside');
    mkdirSync(join(outside, 'a1'), { recursive: true });
    writeFileSync(join(outside, 'secret'), line('secret'));
    writeFileSync(join(outside, 'a1', 'actor.log'), line('secret'));
    await expect(openActorLog(logDir, 'demo', 'nobody')).rejects.toThrow(ActorLogNotFoundError);
    await expect(openActorLog(logDir, 'demo', 'nobody')).rejects.toThrow(
      'no log of actor nobody in atespace demo on this node',
    );
    await expect(openActorLog(join(tmp.path, 'missing'), 'demo', 'a1')).rejects.toThrow(
      ActorLogNotFoundError,
    );

    symlinkSync(join(outside, 'a1'), join(logDir, 'demo', 'linked'));
    await expect(openActorLog(logDir, 'demo', 'linked')).rejects.toThrow(ActorLogNotFoundError);
    symlinkSync(outside, join(logDir, 'elsewhere'));
    await expect(openActorLog(logDir, 'elsewhere', 'a1')).rejects.toThrow(ActorLogNotFoundError);

    write('actor.log', line('mine'));
    symlinkSync(join(outside, 'secret'), file('actor.log.1'));
    expect(await readAll(await openActorLog(logDir, 'demo', 'a1'))).toEqual(['mine']);
  });
});
