import { Settings } from '@substrate/service';

/** Whether runsc runs behind the /proc/sys/net workaround (see docs/sandbox.md). */
export type ProcSysNetWorkaroundMode = 'auto' | 'on' | 'off';

/** ateom's settings, read once at boot; a bad value stops the process with the setting's name. */
export interface AteomConfig {
  /** HTTP listen address for health and metrics (`ATEOM_HTTP_LISTEN`, default 127.0.0.1:8484). */
  readonly http: { host: string; port: number };
  readonly runsc: {
    /** The runsc binary (`ATEOM_RUNSC_PATH`, default `runsc` on PATH). */
    readonly path: string;
    /**
     * `ATEOM_RUNSC_PROC_SYS_NET_WORKAROUND`: `auto` (default) turns the workaround on when
     * `/proc/sys/net/core/rmem_default` is visible inside the sandbox's network namespace, which makes
     * runsc 0.0~20240729 refuse it as the root namespace; `on` and `off` force it.
     */
    readonly procSysNetWorkaround: ProcSysNetWorkaroundMode;
  };
}

export function loadAteomConfig(settings = new Settings()): AteomConfig {
  return {
    http: settings.listenAddress('ATEOM_HTTP_LISTEN', '127.0.0.1:8484'),
    runsc: {
      path: settings.string('ATEOM_RUNSC_PATH', 'runsc'),
      procSysNetWorkaround: settings.oneOf<ProcSysNetWorkaroundMode>(
        'ATEOM_RUNSC_PROC_SYS_NET_WORKAROUND',
        ['auto', 'on', 'off'],
        'auto',
      ),
    },
  };
}
