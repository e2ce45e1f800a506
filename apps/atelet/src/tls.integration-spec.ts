// atelet with TLS: its AteomHerder port requires a client certificate of the configured CA (what ateapi's
// ATEAPI_ATELET_TLS_* settings present), and it reports its workers to a TLS ateapi WorkerRegistry with its
// own certificate. Certificates are made with openssl for 127.0.0.1.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentials, Metadata, Server, ServerCredentials, status, type ServiceError } from '@grpc/grpc-js';
import { ateapi, atelet } from '@substrate/proto';
import { describeWithComponents, freePort, tcpAccepts, tempDir } from '@substrate/testing';
import { ServiceProcess } from '../test/node-harness';

describeWithComponents(['openssl'], 'atelet over TLS', () => {
  let tmp: { path: string; remove: () => void };
  let ateletProcess: ServiceProcess | undefined;
  let registry: Server | undefined;
  let port: number;
  const reports: { node: string; peerVerified: boolean }[] = [];
  const pem = (name: string) => readFileSync(join(tmp.path, name));

  function openssl(...args: string[]): void {
    execFileSync('openssl', args, { cwd: tmp.path, stdio: 'pipe' });
  }

  function issue(name: string, ext: string): void {
    openssl(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-subj',
      `/CN=${name}`,
      '-out',
      `${name}.csr`,
    );
    writeFileSync(join(tmp.path, `${name}.ext`), ext);
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    );
  }

  beforeAll(async () => {
    tmp = tempDir('atelet-tls');
    openssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      'ca.key',
      '-subj',
      '/CN=test-ca',
      '-days',
      '1',
      '-out',
      'ca.crt',
    );
    const both = 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n';
    issue('atelet', both);
    issue('ateapi', both);

    registry = new Server();
    registry.addService(ateapi.WorkerRegistryService, {
      reportWorkers: (
        call: {
          request: ateapi.ReportWorkersRequest;
          getAuthContext: () => { sslPeerCertificate?: unknown };
        },
        callback: (error: null, response: ateapi.ReportWorkersResponse) => void,
      ) => {
        reports.push({
          node: call.request.nodeName,
          peerVerified: call.getAuthContext().sslPeerCertificate !== undefined,
        });
        callback(null, { leaseSeconds: 30, added: 0, removed: 0 });
      },
    });
    const registryPort = await freePort();
    await new Promise<void>((done, fail) =>
      registry?.bindAsync(
        `127.0.0.1:${registryPort}`,
        ServerCredentials.createSsl(
          pem('ca.crt'),
          [{ cert_chain: pem('ateapi.crt'), private_key: pem('ateapi.key') }],
          true,
        ),
        (error) => (error ? fail(error) : done()),
      ),
    );

    port = await freePort();
    ateletProcess = await ServiceProcess.start(
      'atelet',
      'atelet',
      {
        ATELET_ROOT: join(tmp.path, 'node'),
        ATELET_GRPC_LISTEN: `127.0.0.1:${port}`,
        ATELET_HTTP_LISTEN: `127.0.0.1:${await freePort()}`,
        ATELET_TLS_CERT_FILE: join(tmp.path, 'atelet.crt'),
        ATELET_TLS_KEY_FILE: join(tmp.path, 'atelet.key'),
        ATELET_TLS_CLIENT_CA_FILE: join(tmp.path, 'ca.crt'),
        ATELET_ATEAPI_ADDRESS: `127.0.0.1:${registryPort}`,
        ATELET_ATEAPI_TLS_CA_FILE: join(tmp.path, 'ca.crt'),
        ATELET_NODE_NAME: 'tls-node',
      },
      () => tcpAccepts('127.0.0.1', port),
    );
  });

  afterAll(async () => {
    await ateletProcess?.stop();
    registry?.forceShutdown();
    tmp?.remove();
  });

  function checkpoint(channel: ReturnType<typeof credentials.createSsl>): Promise<ServiceError> {
    const client = new atelet.AteomHerderClient(`127.0.0.1:${port}`, channel);
    const request = atelet.CheckpointRequest.fromPartial({
      targetAteomUid: 'nope',
      actorTemplateNamespace: 'demo',
      actorTemplateName: 'counter',
      actorId: 'a1',
      type: atelet.CheckpointType.CHECKPOINT_TYPE_LOCAL,
      config: { $case: 'localConfig', value: { snapshotPrefix: 'p' } },
      scope: atelet.SnapshotScope.SNAPSHOT_SCOPE_FULL,
    });
    return new Promise((done) =>
      client.checkpoint(request, new Metadata(), { deadline: new Date(Date.now() + 10_000) }, (error) => {
        client.close();
        done(error as ServiceError);
      }),
    );
  }

  it('serves ateapi with a client certificate of the CA and no one else', async () => {
    const mutual = await checkpoint(
      credentials.createSsl(pem('ca.crt'), pem('ateapi.key'), pem('ateapi.crt')),
    );
    expect({ code: mutual.code, details: mutual.details }).toEqual({
      code: status.NOT_FOUND,
      details: 'target_ateom_uid "nope" is not a worker of this node',
    });
    expect((await checkpoint(credentials.createSsl(pem('ca.crt')))).code).toBe(status.UNAVAILABLE);
    expect((await checkpoint(credentials.createInsecure())).code).toBe(status.UNAVAILABLE);
  });

  it('reports its workers to ateapi over TLS with its own certificate', async () => {
    while (reports.length === 0) await new Promise((done) => setTimeout(done, 50));
    expect(reports[0]).toEqual({ node: 'tls-node', peerVerified: true });
  });
});
