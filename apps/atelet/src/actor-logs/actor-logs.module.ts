import { Module, type DynamicModule } from '@nestjs/common';
import { type AteletConfig } from '../config';
import { ATELET_CONFIG } from '../herder/herder.service';
import { ActorLogsController } from './actor-logs.controller';
import { ActorLogsService } from './actor-logs.service';

/** Actor logs written by the node's ateoms, served on atelet's HTTP port. */
@Module({})
export class ActorLogsModule {
  static forConfig(config: Pick<AteletConfig, 'logDir'>): DynamicModule {
    return {
      module: ActorLogsModule,
      controllers: [ActorLogsController],
      providers: [{ provide: ATELET_CONFIG, useValue: config }, ActorLogsService],
    };
  }
}
