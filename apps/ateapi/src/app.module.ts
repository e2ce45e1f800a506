import {
  type DynamicModule,
  Inject,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { HealthController } from '@substrate/service';
import { AuthModule } from './auth';
import type { AteapiConfig } from './config';
import { ControlPlane, type ControlPlanePorts } from './control-plane';
import { ControlService } from './control/control.service';
import { ControlGrpcController, WorkerRegistryGrpcController } from './grpc/control.grpc-controller';
import { ControlRestController } from './rest/control.rest-controller';
import { SnapshotsRestController } from './rest/snapshots.rest-controller';
import { SnapshotCollector } from './snapshots/snapshot-collector';
import { WorkerRegistry } from './workers/worker-registry';

/** Starts the recovery loop once the app is up, and stops the control plane on shutdown. */
class ControlPlaneLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(ControlPlane) private readonly plane: ControlPlane) {}

  onApplicationBootstrap(): void {
    this.plane.recovery.onApplicationBootstrap();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.plane.stop();
  }
}

/**
 * ateapi: the control plane. gRPC (`ateapi.Control`, `ateapi.WorkerRegistry`) and the REST gateway
 * share one ControlService; the ControlPlane holds the store, scheduler, workflows and recovery loop.
 */
@Module({})
export class AppModule {
  static forRoot(config: AteapiConfig, ports: ControlPlanePorts): DynamicModule {
    return {
      module: AppModule,
      imports: [AuthModule.forRoot(config.auth)],
      controllers: [
        HealthController,
        ControlGrpcController,
        WorkerRegistryGrpcController,
        ControlRestController,
        SnapshotsRestController,
      ],
      providers: [
        { provide: ControlPlane, useFactory: () => ControlPlane.start(config, ports) },
        {
          provide: ControlService,
          useFactory: (plane: ControlPlane) => plane.control,
          inject: [ControlPlane],
        },
        {
          provide: WorkerRegistry,
          useFactory: (plane: ControlPlane) => plane.registry,
          inject: [ControlPlane],
        },
        {
          provide: SnapshotCollector,
          useFactory: (plane: ControlPlane) => plane.snapshots,
          inject: [ControlPlane],
        },
        ControlPlaneLifecycle,
      ],
    };
  }
}
