import { Controller, Inject, UseFilters } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { ateapi, grpcMethod, type NestGrpcHandlers } from '@substrate/proto';
import { ControlService } from '../control/control.service';
import { WorkerRegistry } from '../workers/worker-registry';
import { GrpcExceptionFilter } from './grpc-exception.filter';

const control = (method: keyof typeof ateapi.ControlService & string) =>
  GrpcMethod(...grpcMethod(ateapi.ControlService, method));

/** `ateapi.Control` over gRPC: decode, call the shared service, encode. Errors map in GrpcExceptionFilter. */
@Controller()
@UseFilters(GrpcExceptionFilter)
export class ControlGrpcController implements NestGrpcHandlers<ateapi.ControlService> {
  constructor(@Inject(ControlService) private readonly control: ControlService) {}

  @control('getActor')
  getActor(request: ateapi.GetActorRequest) {
    return this.control.getActor(request);
  }

  @control('createActor')
  createActor(request: ateapi.CreateActorRequest) {
    return this.control.createActor(request);
  }

  @control('updateActor')
  updateActor(request: ateapi.UpdateActorRequest) {
    return this.control.updateActor(request);
  }

  @control('suspendActor')
  suspendActor(request: ateapi.SuspendActorRequest) {
    return this.control.suspendActor(request);
  }

  @control('pauseActor')
  pauseActor(request: ateapi.PauseActorRequest) {
    return this.control.pauseActor(request);
  }

  @control('resumeActor')
  resumeActor(request: ateapi.ResumeActorRequest) {
    return this.control.resumeActor(request);
  }

  @control('deleteActor')
  deleteActor(request: ateapi.DeleteActorRequest) {
    return this.control.deleteActor(request);
  }

  @control('listWorkers')
  listWorkers() {
    return this.control.listWorkers();
  }

  @control('listActors')
  listActors(request: ateapi.ListActorsRequest) {
    return this.control.listActors(request);
  }

  @control('createAtespace')
  createAtespace(request: ateapi.CreateAtespaceRequest) {
    return this.control.createAtespace(request);
  }

  @control('getAtespace')
  getAtespace(request: ateapi.GetAtespaceRequest) {
    return this.control.getAtespace(request);
  }

  @control('listAtespaces')
  listAtespaces() {
    return this.control.listAtespaces();
  }

  @control('deleteAtespace')
  deleteAtespace(request: ateapi.DeleteAtespaceRequest) {
    return this.control.deleteAtespace(request);
  }

  @control('debugClear')
  debugClear() {
    return this.control.debugClear();
  }
}

/** `ateapi.WorkerRegistry` over gRPC (atelets report their workers here). */
@Controller()
@UseFilters(GrpcExceptionFilter)
export class WorkerRegistryGrpcController implements NestGrpcHandlers<ateapi.WorkerRegistryService> {
  constructor(@Inject(WorkerRegistry) private readonly registry: WorkerRegistry) {}

  @GrpcMethod(...grpcMethod(ateapi.WorkerRegistryService, 'reportWorkers'))
  reportWorkers(request: ateapi.ReportWorkersRequest) {
    return this.registry.report(request);
  }
}
