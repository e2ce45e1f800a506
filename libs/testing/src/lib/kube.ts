import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './ports';
import { ManagedProcess, tempDir } from './process';
import { requireTool } from './tools';

/** An etcd member on loopback with a throw-away data directory. */
export interface EtcdInstance {
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts a single-member etcd on free loopback ports (no fsync: test data only). */
export async function startEtcd(): Promise<EtcdInstance> {
  const dir = tempDir('etcd');
  const [client, peer] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${client}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  const etcd = ManagedProcess.start('etcd', requireTool('etcd'), [
    ...['--name', 'test', '--data-dir', join(dir.path, 'data')],
    ...['--listen-client-urls', url, '--advertise-client-urls', url],
    ...['--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl],
    ...['--initial-cluster', `test=${peerUrl}`, '--initial-cluster-state', 'new', '--unsafe-no-fsync'],
  ]);
  try {
    await etcd.waitUntil(async () => (await fetch(`${url}/health`)).ok, 20_000, 'healthy');
  } catch (err) {
    await etcd.stop();
    dir.remove();
    throw err;
  }
  return {
    url,
    stop: async () => {
      await etcd.stop();
      dir.remove();
    },
  };
}

/** A real kube-apiserver (with its own etcd) on loopback; no kubelets, so no pod ever runs. */
export interface KubeApiServerInstance {
  /** `https://127.0.0.1:<port>` (self-signed certificate: skip TLS verification). */
  readonly server: string;
  /** Bearer token of a `system:masters` user. */
  readonly token: string;
  /** A kubeconfig file for kubectl and clients (`insecure-skip-tls-verify`). */
  readonly kubeconfigPath: string;
  stop(): Promise<void>;
}

/**
 * Starts etcd and a kube-apiserver (built by `npm run setup`) on loopback, with a generated service-account
 * key and a static admin token. Resolves when `/readyz` answers. The service CIDR is link-local.
 */
export async function startKubeApiServer(): Promise<KubeApiServerInstance> {
  const binary = requireTool('kube-apiserver');
  const etcd = await startEtcd();
  const dir = tempDir('kube-apiserver');
  const port = await freePort();
  const token = randomBytes(24).toString('hex');
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const saKey = join(dir.path, 'sa.key');
  const saPub = join(dir.path, 'sa.pub');
  writeFileSync(saKey, privateKey.export({ type: 'pkcs1', format: 'pem' }));
  writeFileSync(saPub, publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(join(dir.path, 'tokens.csv'), `${token},substrate-admin,substrate-admin,system:masters\n`);
  mkdirSync(join(dir.path, 'certs'));
  const server = `https://127.0.0.1:${port}`;
  const apiserver = ManagedProcess.start('kube-apiserver', binary, [
    ...['--etcd-servers', etcd.url, '--bind-address', '127.0.0.1', '--advertise-address', '127.0.0.1'],
    ...['--secure-port', String(port), '--cert-dir', join(dir.path, 'certs')],
    ...['--service-account-issuer', 'https://kubernetes.default.svc'],
    ...['--service-account-key-file', saPub, '--service-account-signing-key-file', saKey],
    ...['--token-auth-file', join(dir.path, 'tokens.csv'), '--authorization-mode', 'RBAC'],
    ...['--service-cluster-ip-range', '169.254.200.0/24'],
    ...['--enable-priority-and-fairness=false', '--profiling=false'],
  ]);
  const kubeconfigPath = join(dir.path, 'kubeconfig.yaml');
  writeFileSync(
    kubeconfigPath,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: test, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]`,
      `users: [{name: admin, user: {token: "${token}"}}]`,
      'contexts: [{name: test, context: {cluster: test, user: admin}}]',
      'current-context: test',
      '',
    ].join('\n'),
  );
  const stop = async () => {
    await apiserver.stop();
    await etcd.stop();
    dir.remove();
  };
  try {
    await apiserver.waitUntil(() => readyz(server, token), 120_000, 'ready');
  } catch (err) {
    await stop();
    throw err;
  }
  return { server, token, kubeconfigPath, stop };
}

/** GET /readyz without verifying the self-signed certificate. */
async function readyz(server: string, token: string): Promise<boolean> {
  const { request } = await import('node:https');
  return new Promise((resolveReady) => {
    const req = request(
      `${server}/readyz`,
      { rejectUnauthorized: false, headers: { authorization: `Bearer ${token}` }, timeout: 2_000 },
      (res) => {
        res.resume();
        resolveReady(res.statusCode === 200);
      },
    );
    req.once('error', () => resolveReady(false));
    req.once('timeout', () => req.destroy());
    req.end();
  });
}
