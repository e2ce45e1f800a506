import { Settings } from '@substrate/service';

/** ateapi's settings, read once at boot; a bad value stops the process with the setting's name. */
export interface AteapiConfig {
  /** HTTP listen address for health and metrics (`ATEAPI_HTTP_LISTEN`, default 127.0.0.1:8480). */
  readonly http: { host: string; port: number };
}

export function loadAteapiConfig(settings = new Settings()): AteapiConfig {
  return { http: settings.listenAddress('ATEAPI_HTTP_LISTEN', '127.0.0.1:8480') };
}
