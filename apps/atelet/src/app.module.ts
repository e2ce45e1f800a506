import { Module, type DynamicModule } from '@nestjs/common';
import { HealthController } from '@substrate/service';
import { ActorLogsModule } from './actor-logs/actor-logs.module';
import { type AteletConfig } from './config';
import { HerderModule } from './herder/herder.module';
import { ATELET_CONFIG } from './herder/herder.service';
import { RegistrationService } from './registration/registration.service';

/**
 * atelet: node daemon: AteomHerder gRPC, OCI images, bundles, snapshot transfer, worker registration,
 * actor logs over HTTP.
 */
@Module({})
export class AppModule {
  static forConfig(config: AteletConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [HerderModule.forConfig(config), ActorLogsModule.forConfig(config)],
      controllers: [HealthController],
      providers: [{ provide: ATELET_CONFIG, useValue: config }, RegistrationService],
    };
  }
}
