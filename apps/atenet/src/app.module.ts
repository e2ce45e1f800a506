import { Module } from '@nestjs/common';
import { HealthController } from '@substrate/service';

/** atenet: L7 router that wakes suspended actors on request, and the actor DNS responder. */
@Module({ controllers: [HealthController] })
export class AppModule {}
