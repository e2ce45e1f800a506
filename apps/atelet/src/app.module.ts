import { Module } from '@nestjs/common';
import { HealthController } from '@substrate/service';

/** atelet: node daemon: AteomHerder gRPC, OCI images, bundles, snapshot transfer. */
@Module({ controllers: [HealthController] })
export class AppModule {}
