import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type AteomConfig } from './config';
import { WorkloadModule } from './workload/workload.module';
import { ATEOM_CONFIG } from './workload/workload.service';

/** Removes the gRPC socket file and the worker's pid file once the server has stopped. */
class WorkerFiles implements OnApplicationShutdown {
  constructor(@Inject(ATEOM_CONFIG) private readonly config: AteomConfig) {}

  async onApplicationShutdown(): Promise<void> {
    await rm(this.config.socket, { force: true });
    await rm(join(this.config.workDir, 'ateom.pid'), { force: true });
  }
}

/** ateom: per-worker supervisor driving gVisor runsc, serving `ateom.Ateom` on a unix socket only. */
@Module({})
export class AppModule {
  static forConfig(config: AteomConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [WorkloadModule.forConfig(config)],
      providers: [{ provide: ATEOM_CONFIG, useValue: config }, WorkerFiles],
    };
  }
}
