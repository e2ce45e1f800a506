import { Module, type DynamicModule } from '@nestjs/common';
import { type AteomConfig } from '../config';
import { AteomGrpcController } from './ateom.controller';
import { ATEOM_CONFIG, WorkloadService } from './workload.service';

/** The `ateom.Ateom` service and the worker it drives. */
@Module({})
export class WorkloadModule {
  static forConfig(config: AteomConfig): DynamicModule {
    return {
      module: WorkloadModule,
      controllers: [AteomGrpcController],
      providers: [{ provide: ATEOM_CONFIG, useValue: config }, WorkloadService],
      exports: [WorkloadService],
    };
  }
}
