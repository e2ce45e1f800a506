import { Controller, Get, Header, Inject } from '@nestjs/common';
import { RouterMetrics } from './metrics';

/** Prometheus text at /metrics on the admin port. */
@Controller()
export class MetricsController {
  constructor(@Inject(RouterMetrics) private readonly metrics: RouterMetrics) {}

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4')
  render(): string {
    return this.metrics.render();
  }
}
