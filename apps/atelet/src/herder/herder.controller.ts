import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { atelet, grpcMethod, type NestGrpcHandlers } from '@substrate/proto';
import { atGrpcEdge } from '../errors/grpc-status';
import { parseCheckpointRequest, parseRestoreRequest, parseRunRequest } from './herder-request';
import { HerderService } from './herder.service';

/** `atelet.AteomHerder`: validates, delegates, maps errors to gRPC status (in one place). */
@Controller()
export class HerderGrpcController implements NestGrpcHandlers<atelet.AteomHerderService> {
  // Explicit token: atelet also runs under swc/tsx, which may emit no decorator metadata.
  constructor(@Inject(HerderService) private readonly herder: HerderService) {}

  @GrpcMethod(...grpcMethod(atelet.AteomHerderService, 'run'))
  run(request: atelet.RunRequest): Promise<atelet.RunResponse> {
    return atGrpcEdge(async () => {
      await this.herder.run(parseRunRequest(request));
      return {};
    });
  }

  @GrpcMethod(...grpcMethod(atelet.AteomHerderService, 'checkpoint'))
  checkpoint(request: atelet.CheckpointRequest): Promise<atelet.CheckpointResponse> {
    return atGrpcEdge(async () => {
      const files = await this.herder.checkpoint(parseCheckpointRequest(request));
      return { snapshotFiles: [...files] };
    });
  }

  @GrpcMethod(...grpcMethod(atelet.AteomHerderService, 'restore'))
  restore(request: atelet.RestoreRequest): Promise<atelet.RestoreResponse> {
    return atGrpcEdge(async () => {
      await this.herder.restore(parseRestoreRequest(request));
      return {};
    });
  }
}
