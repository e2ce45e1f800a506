import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { ateom, grpcMethod, type NestGrpcHandlers } from '@substrate/proto';
import { atGrpcEdge } from './grpc-status';
import { parseWorkloadRequest } from './workload-request';
import { WorkloadService } from './workload.service';

/** `ateom.Ateom` over the worker's unix socket: validates, delegates, maps errors to gRPC status. */
@Controller()
export class AteomGrpcController implements NestGrpcHandlers<ateom.AteomService> {
  // Explicit token: ateom also runs under tsx (esbuild), which emits no decorator metadata.
  constructor(@Inject(WorkloadService) private readonly workloads: WorkloadService) {}

  @GrpcMethod(...grpcMethod(ateom.AteomService, 'runWorkload'))
  runWorkload(request: ateom.RunWorkloadRequest): Promise<ateom.RunWorkloadResponse> {
    return atGrpcEdge(async () => {
      await this.workloads.run(parseWorkloadRequest(request));
      return {};
    });
  }

  @GrpcMethod(...grpcMethod(ateom.AteomService, 'checkpointWorkload'))
  checkpointWorkload(request: ateom.CheckpointWorkloadRequest): Promise<ateom.CheckpointWorkloadResponse> {
    return atGrpcEdge(async () => {
      const snapshotFiles = await this.workloads.checkpoint(parseWorkloadRequest(request));
      return { snapshotFiles: [...snapshotFiles] };
    });
  }

  @GrpcMethod(...grpcMethod(ateom.AteomService, 'restoreWorkload'))
  restoreWorkload(request: ateom.RestoreWorkloadRequest): Promise<ateom.RestoreWorkloadResponse> {
    return atGrpcEdge(async () => {
      await this.workloads.restore(parseWorkloadRequest(request));
      return {};
    });
  }
}
