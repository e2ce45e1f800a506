// Proves that a NestJS 12 microservice serves the generated service definitions (no .proto loading
// at run time) and that the generated grpc-js clients talk to it: responses, deadlines, gRPC status
// codes and messages, UNIMPLEMENTED for RPCs without a handler, and a unix-socket server like ateom's.
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { Controller, type INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { freePort } from '@substrate/testing';
import { GrpcMethod, type MicroserviceOptions, RpcException, Transport } from '@nestjs/microservices';
import {
  ateapi,
  ATEAPI_SERVICES,
  ateom,
  ATEOM_SERVICES,
  grpcMethod,
  nestGrpcPackageDefinition,
} from '../index';
import type { NestGrpcHandlers } from '../index';

const ALPHA: ateapi.Actor = ateapi.Actor.create({
  actorId: 'alpha',
  atespace: 'demo',
  version: 7,
  actorTemplateNamespace: 'default',
  actorTemplateName: 'counter',
  status: ateapi.Actor_Status.STATUS_RUNNING,
  ateomPodIp: '127.0.0.9',
  latestSnapshotInfo: {
    type: ateapi.SnapshotType.SNAPSHOT_TYPE_EXTERNAL,
    data: { $case: 'external', value: { snapshotUriPrefix: 'file:///snapshots/alpha/1' } },
  },
  workerSelector: { matchLabels: { tier: 'gold' } },
});

@Controller()
class ControlGrpcController implements Partial<NestGrpcHandlers<ateapi.ControlService>> {
  // The typed helper: resolves to @GrpcMethod('ateapi.Control', 'GetActor').
  @GrpcMethod(...grpcMethod(ateapi.ControlService, 'getActor'))
  async getActor(request: ateapi.GetActorRequest, metadata: Metadata): Promise<ateapi.GetActorResponse> {
    const ref = request.actorRef;
    if (metadata.get('x-fail').length > 0) {
      throw new Error('a bug, not a gRPC status');
    }
    if (ref?.atespace === 'demo' && ref.name === 'alpha') {
      return { actor: ALPHA };
    }
    throw new RpcException({ code: status.NOT_FOUND, message: `Actor ${ref?.name ?? ''} not found` });
  }

  // Nest's own idiom, as with proto files: package-relative service name and the proto RPC name.
  @GrpcMethod('Control', 'ResumeActor')
  resumeActor(request: ateapi.ResumeActorRequest): ateapi.ResumeActorResponse {
    return {
      actor: { ...ALPHA, actorId: request.actorRef?.name ?? '', status: ateapi.Actor_Status.STATUS_RUNNING },
    };
  }

  // A handler that takes longer than the client's deadline (its timer does not hold the test process).
  @GrpcMethod('Control', 'ListWorkers')
  async listWorkers(): Promise<ateapi.ListWorkersResponse> {
    await new Promise((resolve) => setTimeout(resolve, 2_000).unref());
    return { workers: [] };
  }
}

@Module({ controllers: [ControlGrpcController] })
class ControlModule {}

@Controller()
class AteomGrpcController implements Partial<NestGrpcHandlers<ateom.AteomService>> {
  @GrpcMethod(...grpcMethod(ateom.AteomService, 'checkpointWorkload'))
  checkpointWorkload(request: ateom.CheckpointWorkloadRequest): ateom.CheckpointWorkloadResponse {
    if (request.scope !== ateom.SnapshotScope.SNAPSHOT_SCOPE_FULL) {
      throw new RpcException({ code: status.INVALID_ARGUMENT, message: 'scope must be FULL' });
    }
    return { snapshotFiles: ['checkpoint.img', 'pages.img', `${request.actorAtespace}-${request.actorId}`] };
  }
}

@Module({ controllers: [AteomGrpcController] })
class AteomModule {}

function deadline(ms: number): Date {
  return new Date(Date.now() + ms);
}

/** Calls a callback-style unary client method and settles with its outcome. */
function unary<Req, Res>(
  call: (
    request: Req,
    metadata: Metadata,
    options: { deadline: Date },
    callback: (error: ServiceError | null, response: Res) => void,
  ) => unknown,
  request: Req,
  metadata = new Metadata(),
  timeoutMs = 5_000,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    call(request, metadata, { deadline: deadline(timeoutMs) }, (error, response) =>
      error ? reject(error) : resolve(response),
    );
  });
}

async function rejection(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as ServiceError;
  }
  throw new Error('expected the call to fail');
}

describe('NestJS serves the generated service definitions', () => {
  describe('ateapi.Control over TCP on loopback', () => {
    let app: INestMicroservice;
    let client: ateapi.ControlClient;

    beforeAll(async () => {
      const port = await freePort();
      app = await NestFactory.createMicroservice<MicroserviceOptions>(ControlModule, {
        transport: Transport.GRPC,
        options: {
          url: `127.0.0.1:${port}`,
          package: 'ateapi',
          packageDefinition: nestGrpcPackageDefinition(ATEAPI_SERVICES),
        },
        logger: false,
      });
      await app.listen();
      client = new ateapi.ControlClient(`127.0.0.1:${port}`, credentials.createInsecure());
    });

    afterAll(async () => {
      client?.close();
      await app?.close();
    });

    it('answers GetActor with the decoded actor, oneof and map included', async () => {
      const response = await unary(client.getActor.bind(client), {
        actorRef: { atespace: 'demo', name: 'alpha' },
      });
      expect(response).toEqual({ actor: ALPHA });
      expect(response.actor?.latestSnapshotInfo?.data).toEqual({
        $case: 'external',
        value: { snapshotUriPrefix: 'file:///snapshots/alpha/1' },
      });
    });

    it('propagates NOT_FOUND with the message "Actor <id> not found"', async () => {
      const error = await rejection(
        unary(client.getActor.bind(client), { actorRef: { atespace: 'demo', name: 'x' } }),
      );
      expect(error.code).toBe(status.NOT_FOUND);
      expect(error.details).toBe('Actor x not found');
    });

    it('turns an exception that is not an RpcException into UNKNOWN without leaking it', async () => {
      const metadata = new Metadata();
      metadata.set('x-fail', '1');
      const error = await rejection(
        unary(client.getActor.bind(client), { actorRef: { atespace: 'demo', name: 'alpha' } }, metadata),
      );
      expect(error.code).toBe(status.UNKNOWN);
      expect(error.details).not.toContain('a bug');
    });

    it('matches handlers declared with the package-relative name, as with .proto files', async () => {
      const response = await unary(client.resumeActor.bind(client), {
        actorRef: { atespace: 'demo', name: 'beta' },
        boot: true,
      });
      expect(response.actor?.actorId).toBe('beta');
      expect(response.actor?.status).toBe(ateapi.Actor_Status.STATUS_RUNNING);
    });

    it('answers UNIMPLEMENTED for an RPC without a handler', async () => {
      const error = await rejection(unary(client.debugClear.bind(client), {}));
      expect(error.code).toBe(status.UNIMPLEMENTED);
    });

    it('serves the other service of the package on the same port', async () => {
      const identity = new ateapi.SessionIdentityClient(
        client
          .getChannel()
          .getTarget()
          .replace(/^ipv4:/, ''),
        credentials.createInsecure(),
      );
      try {
        const error = await rejection(
          unary(identity.mintJwt.bind(identity), {
            audience: ['a'],
            appId: 'app',
            userId: 'u',
            sessionId: 's',
          }),
        );
        expect(error.code).toBe(status.UNIMPLEMENTED);
      } finally {
        identity.close();
      }
    });

    it('honours the client deadline', async () => {
      const started = Date.now();
      const error = await rejection(unary(client.listWorkers.bind(client), {}, new Metadata(), 200));
      expect(error.code).toBe(status.DEADLINE_EXCEEDED);
      expect(Date.now() - started).toBeLessThan(1_500);
    });
  });

  describe('ateom.Ateom over a unix socket', () => {
    let app: INestMicroservice;
    let client: ateom.AteomClient;
    let dir: string;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'proto-ateom-'));
      const address = `unix://${join(dir, 'ateom.sock')}`;
      app = await NestFactory.createMicroservice<MicroserviceOptions>(AteomModule, {
        transport: Transport.GRPC,
        options: {
          url: address,
          package: 'ateom',
          packageDefinition: nestGrpcPackageDefinition(ATEOM_SERVICES),
        },
        logger: false,
      });
      await app.listen();
      client = new ateom.AteomClient(address, credentials.createInsecure());
    });

    afterAll(async () => {
      client?.close();
      await app?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('answers CheckpointWorkload with the snapshot files, addition fields included', async () => {
      const response = await unary(
        client.checkpointWorkload.bind(client),
        ateom.CheckpointWorkloadRequest.create({
          actorId: 'alpha',
          actorAtespace: 'demo',
          scope: ateom.SnapshotScope.SNAPSHOT_SCOPE_FULL,
        }),
      );
      expect(response.snapshotFiles).toEqual(['checkpoint.img', 'pages.img', 'demo-alpha']);
    });

    it('propagates INVALID_ARGUMENT', async () => {
      const error = await rejection(
        unary(
          client.checkpointWorkload.bind(client),
          ateom.CheckpointWorkloadRequest.create({ scope: ateom.SnapshotScope.SNAPSHOT_SCOPE_DATA }),
        ),
      );
      expect(error.code).toBe(status.INVALID_ARGUMENT);
      expect(error.details).toBe('scope must be FULL');
    });
  });
});
