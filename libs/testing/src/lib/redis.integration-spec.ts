import { Cluster, Redis } from 'ioredis';
import { describeWithComponents } from './components';
import { jestRedis } from './jest-redis';
import { redisCommand, startRedis } from './redis';

describeWithComponents(['redis-server', 'redis-cli'], 'Redis harness (real redis-server on loopback)', () => {
  it('serves a standalone redis-server on a loopback address', async () => {
    const { url } = jestRedis();
    expect(url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await client.connect();
    await client.set('harness:key', 'value');
    await expect(client.get('harness:key')).resolves.toBe('value');
    await client.quit();
  });

  it('joins a 3-master cluster that covers every slot and routes keys to all masters', async () => {
    const { clusterSeeds } = jestRedis();
    expect(clusterSeeds).toHaveLength(3);
    const [host, port] = (clusterSeeds[0] ?? '').split(':');
    const cluster = new Cluster([{ host: host ?? '', port: Number(port) }], { lazyConnect: true });
    await cluster.connect();
    const info = await cluster.cluster('INFO');
    expect(String(info)).toContain('cluster_slots_assigned:16384');
    for (let i = 0; i < 30; i++) await cluster.set(`key-${i}`, String(i));
    const perMaster = await Promise.all(cluster.nodes('master').map((node) => node.dbsize()));
    expect(perMaster).toHaveLength(3);
    expect(perMaster.every((n) => n > 0)).toBe(true);
    await expect(cluster.get('key-17')).resolves.toBe('17');
    await cluster.quit();
  });

  it('stops a server it started and reaps the process', async () => {
    const redis = await startRedis();
    await expect(redisCommand(redis.port, 'PING')).resolves.toBe('+PONG\r\n');
    const pid = redis.pid ?? -1;
    await redis.stop();
    expect(() => process.kill(pid, 0)).toThrow();
    await expect(redisCommand(redis.port, 'PING')).rejects.toThrow();
  });
});
