import { type DynamicModule, Module } from '@nestjs/common';
import { HealthController } from '@substrate/service';
import type { AtenetConfig } from './config';
import { MetricsController } from './metrics/metrics.controller';
import { RouterMetrics } from './metrics/metrics';
import { ATENET_CONFIG, RouterLifecycle } from './router.lifecycle';

/** atenet: the L7 router that wakes suspended actors on request, and the actor DNS responder. */
@Module({})
export class AppModule {
  static forRoot(config: AtenetConfig): DynamicModule {
    return {
      module: AppModule,
      controllers: [HealthController, MetricsController],
      providers: [{ provide: ATENET_CONFIG, useValue: config }, RouterMetrics, RouterLifecycle],
    };
  }
}
