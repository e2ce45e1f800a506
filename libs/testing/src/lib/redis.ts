import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports';
import { ManagedProcess, tempDir } from './process';
import { requireTool } from './tools';

const run = promisify(execFile);

/** Sends one inline command to a Redis server and resolves with its raw reply. */
export function redisCommand(
  port: number,
  command: string,
  host = '127.0.0.1',
  timeoutMs = 2_000,
): Promise<string> {
  return new Promise((resolveReply, reject) => {
    const socket = connect({ host, port });
    let reply = '';
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`redis ${host}:${port} did not answer`)));
    socket.once('error', reject);
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.endsWith('\r\n')) {
        socket.end();
        resolveReply(reply);
      }
    });
    socket.write(`${command}\r\n`);
  });
}

async function startRedisServer(
  name: string,
  port: number,
  dir: string,
  extra: string[],
): Promise<ManagedProcess> {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
  ];
  const server = ManagedProcess.start(name, requireTool('redis-server'), [...args, ...extra]);
  await server.waitUntil(async () => (await redisCommand(port, 'PING')).startsWith('+PONG'));
  return server;
}

/** A standalone redis-server on 127.0.0.1. */
export interface RedisInstance {
  readonly url: string;
  readonly port: number;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/** Starts a throw-away standalone redis-server (no persistence) on a free loopback port. */
export async function startRedis(): Promise<RedisInstance> {
  const dir = tempDir('redis');
  const port = await freePort();
  const server = await startRedisServer(`redis-server:${port}`, port, dir.path, []);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: server.pid,
    stop: async () => {
      await server.stop();
      dir.remove();
    },
  };
}

/** A Redis Cluster of masters on 127.0.0.1 covering all 16384 slots. */
export interface RedisClusterInstance {
  /** `host:port` of every master; any of them is a valid seed. */
  readonly seeds: readonly string[];
  readonly ports: readonly number[];
  /** PIDs of the masters, in seed order (tests kill them to simulate failures). */
  readonly pids: readonly (number | undefined)[];
  stop(): Promise<void>;
}

/** A free port whose cluster-bus companion (port + 10000) is free as well. */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port + 10_000 > 65_535 || taken.has(port)) continue;
    const busFree = await new Promise<boolean>((ok) => {
      const socket = connect({ host: '127.0.0.1', port: port + 10_000 });
      socket.once('connect', () => (socket.destroy(), ok(false)));
      socket.once('error', () => ok(true));
    });
    if (busFree) return port;
  }
}

/** Starts `masters` cluster-enabled redis-servers and joins them with `redis-cli --cluster create`. */
export async function startRedisCluster(masters = 3): Promise<RedisClusterInstance> {
  if (masters < 3) throw new Error('a Redis Cluster needs at least 3 masters');
  const dir = tempDir('redis-cluster');
  const taken = new Set<number>();
  const servers: ManagedProcess[] = [];
  const stopAll = async () => {
    await Promise.all(servers.map((s) => s.stop()));
    dir.remove();
  };
  try {
    for (let i = 0; i < masters; i++) {
      const port = await freeClusterPort(taken);
      taken.add(port);
      const nodeDir = join(dir.path, String(port));
      mkdirSync(nodeDir);
      const clusterArgs = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'];
      clusterArgs.push('--cluster-node-timeout', '2000');
      servers.push(await startRedisServer(`redis-cluster:${port}`, port, nodeDir, clusterArgs));
    }
    const seeds = [...taken].map((port) => `127.0.0.1:${port}`);
    await run(
      requireTool('redis-cli'),
      ['--cluster', 'create', ...seeds, '--cluster-replicas', '0', '--cluster-yes'],
      {
        timeout: 30_000,
      },
    );
    for (const server of servers) {
      const port = Number(server.name.split(':')[1]);
      await server.waitUntil(
        async () => (await redisCommand(port, 'CLUSTER INFO')).includes('cluster_state:ok'),
        30_000,
        'part of a healthy cluster',
      );
    }
    return { seeds, ports: [...taken], pids: servers.map((s) => s.pid), stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
