import { Settings } from '@substrate/service';

/** ateom's settings, read once at boot; a bad value stops the process with the setting's name. */
export interface AteomConfig {
  /** HTTP listen address for health and metrics (`ATEOM_HTTP_LISTEN`, default 127.0.0.1:8484). */
  readonly http: { host: string; port: number };
}

export function loadAteomConfig(settings = new Settings()): AteomConfig {
  return { http: settings.listenAddress('ATEOM_HTTP_LISTEN', '127.0.0.1:8484') };
}
