export { runMain, startService, type ServiceOptions } from './lib/bootstrap';
export { ConfigError, Settings } from './lib/config';
export { HealthController } from './lib/health.controller';
