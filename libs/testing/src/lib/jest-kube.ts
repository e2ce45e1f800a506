import { startKubeApiServer, type KubeApiServerInstance } from './kube';

/** Environment variable through which a Jest global setup hands the API server's kubeconfig to tests. */
export const KUBECONFIG_ENV = 'SUBSTRATE_TEST_KUBECONFIG';

let started: KubeApiServerInstance | undefined;

/** For a Jest `globalSetup`: starts etcd + kube-apiserver and publishes the kubeconfig path. */
export async function startJestKube(): Promise<void> {
  started = await startKubeApiServer();
  process.env[KUBECONFIG_ENV] = started.kubeconfigPath;
}

/** For the matching Jest `globalTeardown`. */
export async function stopJestKube(): Promise<void> {
  await started?.stop();
}

/** In a test file: the kubeconfig path of the API server the global setup started. */
export function jestKubeconfig(): string {
  const path = process.env[KUBECONFIG_ENV];
  if (!path) throw new Error(`${KUBECONFIG_ENV} is not set: is the kube-apiserver global setup configured?`);
  return path;
}
