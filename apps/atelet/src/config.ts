import { Settings } from '@substrate/service';

/** atelet's settings, read once at boot; a bad value stops the process with the setting's name. */
export interface AteletConfig {
  /** HTTP listen address for health and metrics (`ATELET_HTTP_LISTEN`, default 127.0.0.1:8483). */
  readonly http: { host: string; port: number };
}

export function loadAteletConfig(settings = new Settings()): AteletConfig {
  return { http: settings.listenAddress('ATELET_HTTP_LISTEN', '127.0.0.1:8483') };
}
