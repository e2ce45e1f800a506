import { loadPackageDefinition } from '@grpc/grpc-js';
import {
  ateapi,
  ATEAPI_SERVICES,
  ATELET_SERVICES,
  ATEOM_SERVICES,
  grpcMethod,
  nestGrpcPackageDefinition,
  type NestGrpcHandlers,
} from '../index';

describe('nestGrpcPackageDefinition', () => {
  it('keys methods by their .proto RPC names and keeps the generated names as originalName', () => {
    const definition = nestGrpcPackageDefinition(ATEAPI_SERVICES);
    expect(Object.keys(definition).sort()).toEqual([
      'ateapi.Control',
      'ateapi.SessionIdentity',
      'ateapi.WorkerRegistry',
    ]);
    const control = definition['ateapi.Control'] ?? {};
    expect(Object.keys(control)).toContain('GetActor');
    expect(control['GetActor']?.path).toBe('/ateapi.Control/GetActor');
    expect(control['GetActor']?.originalName).toBe('getActor');
    expect(Object.keys(definition['ateapi.SessionIdentity'] ?? {}).sort()).toEqual(['MintCert', 'MintJWT']);
  });

  it('keeps the generated serializers', () => {
    const getActor = nestGrpcPackageDefinition(ATEAPI_SERVICES)['ateapi.Control']?.['GetActor'];
    const request: ateapi.GetActorRequest = { actorRef: { atespace: 'demo', name: 'alpha' } };
    expect(getActor?.requestDeserialize(getActor.requestSerialize(request))).toEqual(request);
  });

  it('builds client constructors under package namespaces, as proto-loader output does', () => {
    const loaded = loadPackageDefinition(
      nestGrpcPackageDefinition({ ...ATEAPI_SERVICES, ...ATELET_SERVICES, ...ATEOM_SERVICES }),
    );
    for (const [pkg, service] of [
      ['ateapi', 'Control'],
      ['ateapi', 'SessionIdentity'],
      ['atelet', 'AteomHerder'],
      ['ateom', 'Ateom'],
    ] as const) {
      const namespace = loaded[pkg] as Record<string, unknown>;
      expect(typeof namespace[service]).toBe('function');
    }
  });

  it('rejects a service keyed by a name other than its fully qualified one', () => {
    expect(() => nestGrpcPackageDefinition({ Control: ateapi.ControlService })).toThrow(
      /key it by its fully qualified name "ateapi.Control"/,
    );
  });
});

describe('grpcMethod', () => {
  it('gives the @GrpcMethod arguments for a generated method', () => {
    expect(grpcMethod(ateapi.ControlService, 'resumeActor')).toEqual(['ateapi.Control', 'ResumeActor']);
    expect(grpcMethod(ateapi.SessionIdentityService, 'mintJwt')).toEqual([
      'ateapi.SessionIdentity',
      'MintJWT',
    ]);
  });
});

describe('NestGrpcHandlers', () => {
  it('types each handler by the generated request and response messages', async () => {
    const handlers: Partial<NestGrpcHandlers<ateapi.ControlService>> = {
      getActor: (request) => ({ actor: ateapi.Actor.fromPartial({ actorId: request.actorRef?.name ?? '' }) }),
      // @ts-expect-error -- a ResumeActor handler cannot answer with a ListWorkersResponse
      resumeActor: () => ({ workers: [] }),
    };
    const response = await handlers.getActor?.(
      { actorRef: { atespace: 'demo', name: 'alpha' } },
      undefined as never,
      undefined as never,
    );
    expect(response?.actor?.actorId).toBe('alpha');
  });

  it('accepts only generated method names in grpcMethod', () => {
    // @ts-expect-error -- method keys are the generated lowerCamelCase names
    expect(() => grpcMethod(ateapi.ControlService, 'GetActor')).toThrow(/no method "GetActor"/);
  });
});
