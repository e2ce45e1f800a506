import { stopJestRedis } from '@substrate/testing';

export default async function globalTeardown(): Promise<void> {
  await stopJestRedis();
}
