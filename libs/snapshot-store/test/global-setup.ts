import { startJestStorage } from '@substrate/testing';

/** Starts versitygw and fake-gcs-server on loopback for the snapshot-store integration suites. */
export default async function globalSetup(): Promise<void> {
  await startJestStorage();
}
