import { Module } from '@nestjs/common';
import { HealthController } from '@substrate/service';

/** ateom: per-worker supervisor driving gVisor runsc. */
@Module({ controllers: [HealthController] })
export class AppModule {}
