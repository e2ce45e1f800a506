import { Module } from '@nestjs/common';
import { HealthController } from '@substrate/service';

/** ateapi: control plane: ateapi.Control gRPC service, REST gateway, workflow engine and scheduler on Redis. */
@Module({ controllers: [HealthController] })
export class AppModule {}
