/** Thrown at boot when a setting is missing or malformed; the message names the setting. */
export class ConfigError extends Error {
  readonly code = 'INVALID_CONFIG';

  constructor(
    readonly setting: string,
    problem: string,
  ) {
    super(`invalid configuration: ${setting}: ${problem}`);
    this.name = 'ConfigError';
  }
}

/** Reads typed settings from an environment (process.env by default), failing with the setting's name. */
export class Settings {
  constructor(private readonly env: Readonly<Record<string, string | undefined>> = process.env) {}

  /** A string setting; `fallback` when unset or empty. */
  string(name: string, fallback?: string): string {
    const value = this.env[name];
    if (value !== undefined && value !== '') return value;
    if (fallback === undefined) throw new ConfigError(name, 'required but not set');
    return fallback;
  }

  /** An integer setting within [min, max]. */
  int(name: string, fallback: number, { min = -Infinity, max = Infinity } = {}): number {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return fallback;
    if (!/^-?\d+$/.test(raw.trim()))
      throw new ConfigError(name, `expected an integer, got ${JSON.stringify(raw)}`);
    const value = Number(raw);
    if (value < min || value > max)
      throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
    return value;
  }

  /** A boolean setting: true/false/1/0/yes/no. */
  bool(name: string, fallback: boolean): boolean {
    const raw = this.env[name]?.trim().toLowerCase();
    if (raw === undefined || raw === '') return fallback;
    if (['true', '1', 'yes'].includes(raw)) return true;
    if (['false', '0', 'no'].includes(raw)) return false;
    throw new ConfigError(name, `expected true or false, got ${JSON.stringify(raw)}`);
  }

  /** One of a fixed set of values. */
  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.string(name, fallback);
    if (!(allowed as readonly string[]).includes(raw)) {
      throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
    }
    return raw as T;
  }

  /** A listen address `host:port` (IPv6 hosts in brackets). */
  listenAddress(name: string, fallback: string): { host: string; port: number } {
    const raw = this.string(name, fallback);
    const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(raw);
    const port = Number(match?.[2]);
    if (!match || port > 65_535)
      throw new ConfigError(name, `expected host:port, got ${JSON.stringify(raw)}`);
    return { host: (match[1] ?? '').replace(/^\[|\]$/g, ''), port };
  }
}
