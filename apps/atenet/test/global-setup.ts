import { findTool, isCI, startJestRedis } from '@substrate/testing';

/** Starts the real Redis servers (standalone and a 3-master cluster) the integration suites use. */
export default async function globalSetup(): Promise<void> {
  if (findTool('redis-server') === undefined && !isCI()) return; // suites report the missing component
  await startJestRedis();
}
