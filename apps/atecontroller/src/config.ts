import { Settings } from '@substrate/service';

/** atecontroller's settings, read once at boot; a bad value stops the process with the setting's name. */
export interface AtecontrollerConfig {
  /** HTTP listen address for health and metrics (`ATECONTROLLER_HTTP_LISTEN`, default 127.0.0.1:8481). */
  readonly http: { host: string; port: number };
}

export function loadAtecontrollerConfig(settings = new Settings()): AtecontrollerConfig {
  return { http: settings.listenAddress('ATECONTROLLER_HTTP_LISTEN', '127.0.0.1:8481') };
}
