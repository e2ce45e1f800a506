import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ateapi } from '@substrate/proto';
import { Settings } from '@substrate/service';
import { freePort, tempDir } from '@substrate/testing';
import { loadAteletConfig } from '../config';
import { RegistrationService } from './registration.service';

// ateapi's WorkerRegistry is a port at the edge here: a plain gRPC server on loopback records the reports.
describe('RegistrationService', () => {
  it('reports the workers with a bearer token, renews every third of the granted lease, and stops on shutdown', async () => {
    const tmp = tempDir('atelet-registration');
    const reports: { request: ateapi.ReportWorkersRequest; authorization: string; at: number }[] = [];
    const server = new Server();
    server.addService(ateapi.WorkerRegistryService, {
      reportWorkers: (
        call: ServerUnaryCall<ateapi.ReportWorkersRequest, ateapi.ReportWorkersResponse>,
        callback: sendUnaryData<ateapi.ReportWorkersResponse>,
      ) => {
        reports.push({
          request: call.request,
          authorization: String(call.metadata.get('authorization')[0] ?? ''),
          at: Date.now(),
        });
        callback(null, { leaseSeconds: 3, added: reports.length === 1 ? 1 : 0, removed: 0 });
      },
    });
    const port = await freePort();
    await new Promise<void>((done, fail) =>
      server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error) =>
        error ? fail(error) : done(),
      ),
    );
    writeFileSync(join(tmp.path, 'token'), 'secret-token\n');
    const config = loadAteletConfig(
      new Settings({
        ATELET_ATEAPI_ADDRESS: `127.0.0.1:${port}`,
        ATELET_ATEAPI_TOKEN_FILE: join(tmp.path, 'token'),
        ATELET_NODE_NAME: 'node-a',
        ATELET_GRPC_LISTEN: '127.0.0.1:9085',
        ATELET_LEASE_SECONDS: '3',
        ATELET_WORKERS: JSON.stringify([
          {
            name: 'w0',
            uid: 'u0',
            namespace: 'demo',
            pool: 'counter',
            socket: '/s/w0.sock',
            endpoint: '169.254.128.2:80',
          },
        ]),
      }),
    );
    const service = new RegistrationService(config);
    service.onApplicationBootstrap();
    while (reports.length < 2) await new Promise((done) => setTimeout(done, 50));
    await service.onApplicationShutdown();
    const count = reports.length;
    expect(reports[0]?.request).toEqual({
      nodeName: 'node-a',
      ateletEndpoint: '127.0.0.1:9085',
      leaseSeconds: 3,
      workers: [
        {
          workerNamespace: 'demo',
          workerPool: 'counter',
          workerPod: 'w0',
          ip: '169.254.128.2',
          workerPodUid: 'u0',
          httpPort: 80,
        },
      ],
    });
    expect(reports[0]?.authorization).toBe('Bearer secret-token');
    // Granted 3 s: renewed after a third of it.
    expect((reports[1]?.at ?? 0) - (reports[0]?.at ?? 0)).toBeGreaterThanOrEqual(900);
    await new Promise((done) => setTimeout(done, 1_200));
    expect(reports.length).toBe(count);
    server.forceShutdown();
    tmp.remove();
  });
});
