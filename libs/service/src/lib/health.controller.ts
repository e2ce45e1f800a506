import { Controller, Get } from '@nestjs/common';

/** Liveness: answers while the process serves HTTP. Components add readiness checks of their own. */
@Controller()
export class HealthController {
  @Get('healthz')
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
