import { Module } from '@nestjs/common';
import { HealthController } from '@substrate/service';

/** atecontroller: reconciles WorkerPool, ActorTemplate and SandboxConfig into workers and golden snapshots. */
@Module({ controllers: [HealthController] })
export class AppModule {}
