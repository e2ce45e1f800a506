import { Module } from '@nestjs/common';
import { startService } from './bootstrap';
import { HealthController } from './health.controller';

@Module({ controllers: [HealthController] })
class TestModule {}

describe('startService', () => {
  it('serves /healthz on the loopback address it was given and stops cleanly', async () => {
    const app = await startService({ name: 'test', module: TestModule, host: '127.0.0.1', port: 0 });
    const address = app.getHttpServer().address() as { port: number };
    const response = await fetch(`http://127.0.0.1:${address.port}/healthz`);
    expect(response.status).toBe(200);
    await expect(response.json()).resolves.toEqual({ status: 'ok' });
    await app.close();
  });
});
