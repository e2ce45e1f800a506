import { ateapi } from '@substrate/proto';
import { USAGE, runCli } from './cli';
import { printActors, printWorkers } from './output/printers';

describe('kubectl-ate command line', () => {
  it('prints usage for no command and for --help', async () => {
    expect(await runCli([], '1.2.3')).toEqual({ exitCode: 0, stdout: USAGE, stderr: '' });
    expect((await runCli(['--help'], '1.2.3')).stdout).toContain('Usage:');
  });

  it('prints its version', async () => {
    expect((await runCli(['version'], '1.2.3')).stdout).toBe('kubectl-ate 1.2.3\n');
  });

  it('refuses unknown commands, flags and formats with exit code 1, before calling ateapi', async () => {
    const endpoint = ['--endpoint', '127.0.0.1:9'];
    expect(await runCli(['frobnicate', 'x', ...endpoint], '1')).toMatchObject({
      exitCode: 1,
      stderr: expect.stringMatching(/^error: unknown command "frobnicate x"/) as unknown,
    });
    expect(await runCli(['get', 'actors', '--frob'], '1')).toEqual({
      exitCode: 1,
      stdout: '',
      stderr: 'error: unknown flag: --frob\n',
    });
    expect(await runCli(['get', 'workers', '-o', 'xml'], '1')).toEqual({
      exitCode: 1,
      stdout: '',
      stderr: 'error: unknown output format "xml" (table, json or yaml)\n',
    });
    expect(await runCli(['resume', 'actor', 'a', ...endpoint], '1')).toEqual({
      exitCode: 1,
      stdout: '',
      stderr: 'error: required flag "-a, --atespace" not set\n',
    });
    expect(await runCli(['create', 'actor', 'a', '-a', 'x', '-t', 'counter', ...endpoint], '1')).toEqual({
      exitCode: 1,
      stdout: '',
      stderr: 'error: --template must be <namespace>/<name>, got "counter"\n',
    });
    expect(await runCli(['get', 'actors', ...endpoint], '1')).toEqual({
      exitCode: 1,
      stdout: '',
      stderr: 'error: give exactly one of -a/--atespace or -A/--all-atespaces\n',
    });
  });

  it('says where it tried to reach ateapi when nothing answers', async () => {
    const result = await runCli(['get', 'workers', '--endpoint', '127.0.0.1:9'], '1');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(
      /^error: cannot reach ateapi at 127\.0\.0\.1:9: .*\(set --endpoint or ATE_ENDPOINT\)\n$/,
    );
  });
});

describe('printers', () => {
  const actor = (id: string, overrides: Partial<ateapi.Actor> = {}): ateapi.Actor => ({
    ...ateapi.Actor.fromPartial({
      actorId: id,
      atespace: 'default',
      actorTemplateNamespace: 'ate-demo-counter',
      actorTemplateName: 'counter',
      version: 3,
      status: ateapi.Actor_Status.STATUS_SUSPENDED,
    }),
    ...overrides,
  });

  it('prints actors as upstream: sorted, padded by 3, <none> for no worker', () => {
    expect(
      printActors(
        [
          actor('b'),
          actor('a', {
            status: ateapi.Actor_Status.STATUS_RUNNING,
            ateomPodNamespace: 'default',
            ateomPodName: 'pool-0',
            ateomPodIp: '169.254.128.1',
          }),
        ],
        'table',
      ),
    ).toBe(
      [
        'ATESPACE   TEMPLATE NS        TEMPLATE   ID   STATUS             ATEOM POD        ATEOM IP        VERSION',
        'default    ate-demo-counter   counter    a    STATUS_RUNNING     default/pool-0   169.254.128.1   3',
        'default    ate-demo-counter   counter    b    STATUS_SUSPENDED   <none>           <none>          3',
        '',
      ].join('\n'),
    );
  });

  it('prints JSON in protojson shape (int64 as a string) and workers as FREE/ASSIGNED', () => {
    expect(JSON.parse(printActors([actor('a')], 'json'))).toEqual({
      actors: [expect.objectContaining({ actorId: 'a', version: '3', status: 'STATUS_SUSPENDED' })],
    });
    const workers = [
      ateapi.Worker.fromPartial({ workerNamespace: 'default', workerPool: 'pool', workerPod: 'pool-1' }),
      ateapi.Worker.fromPartial({
        workerNamespace: 'default',
        workerPool: 'pool',
        workerPod: 'pool-0',
        actorId: 'a',
        actorNamespace: 'ns',
        actorTemplate: 't',
      }),
    ];
    expect(printWorkers(workers, 'table')).toBe(
      [
        'NAMESPACE   POOL   POD      STATUS     ASSIGNED ACTOR',
        'default     pool   pool-0   ASSIGNED   ns/t/a',
        'default     pool   pool-1   FREE       <none>',
        '',
      ].join('\n'),
    );
  });
});
