import { findTool, isCI, startJestKube } from '@substrate/testing';

/** Starts etcd + kube-apiserver once for the integration suites of this project. */
export default async function globalSetup(): Promise<void> {
  if (findTool('kube-apiserver') === undefined && !isCI()) return; // suites skip themselves with a note
  await startJestKube();
}
