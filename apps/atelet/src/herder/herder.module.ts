import { Module, type DynamicModule } from '@nestjs/common';
import { type AteletConfig } from '../config';
import { HerderGrpcController } from './herder.controller';
import { ATELET_CONFIG, HerderService } from './herder.service';

/** The `atelet.AteomHerder` service and the workers it drives. */
@Module({})
export class HerderModule {
  static forConfig(config: AteletConfig): DynamicModule {
    return {
      module: HerderModule,
      controllers: [HerderGrpcController],
      providers: [{ provide: ATELET_CONFIG, useValue: config }, HerderService],
      exports: [HerderService],
    };
  }
}
