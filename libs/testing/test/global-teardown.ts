import { stopJestRedis } from '../src/index';

export default async function globalTeardown(): Promise<void> {
  await stopJestRedis();
}
