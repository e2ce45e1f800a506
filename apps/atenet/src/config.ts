import { Settings } from '@substrate/service';

/** atenet's settings, read once at boot; a bad value stops the process with the setting's name. */
export interface AtenetConfig {
  /** HTTP listen address for health and metrics (`ATENET_HTTP_LISTEN`, default 127.0.0.1:8482). */
  readonly http: { host: string; port: number };
}

export function loadAtenetConfig(settings = new Settings()): AtenetConfig {
  return { http: settings.listenAddress('ATENET_HTTP_LISTEN', '127.0.0.1:8482') };
}
