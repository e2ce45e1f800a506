import { findTool, isCI, startJestRedis } from '../src/index';

/** Starts the real Redis servers every integration suite of this project uses. */
export default async function globalSetup(): Promise<void> {
  if (findTool('redis-server') === undefined && !isCI()) return; // suites skip themselves with a note
  await startJestRedis();
}
