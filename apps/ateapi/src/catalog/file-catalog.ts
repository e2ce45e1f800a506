import { stat } from 'node:fs/promises';
import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { loadManifestDir } from '@substrate/api';
import { MemoryCatalog } from './catalog';

/**
 * The local catalog: every ActorTemplate, WorkerPool and SandboxConfig in a directory of YAML/JSON
 * manifests (the same CRD YAML kubectl applies). Loaded at boot — a bad manifest stops the process with
 * the file and field named — and reloaded when a file changes; a bad edit at run time is logged and the
 * previous objects are kept.
 */
export class FileCatalog extends MemoryCatalog implements OnApplicationShutdown {
  private readonly logger = new Logger(FileCatalog.name);
  private timer: NodeJS.Timeout | undefined;
  private fingerprint = '';

  constructor(private readonly dir: string) {
    super();
  }

  /** Loads the directory; throws on a bad manifest. */
  async load(): Promise<void> {
    const objects = await loadManifestDir(this.dir, { recursive: true });
    this.replace(objects);
    this.fingerprint = await this.currentFingerprint();
  }

  /** Starts polling the directory for changes every `intervalMs`. */
  watch(intervalMs: number): void {
    this.timer = setInterval(() => void this.reloadIfChanged(), intervalMs);
    this.timer.unref();
  }

  private async reloadIfChanged(): Promise<void> {
    try {
      const fingerprint = await this.currentFingerprint();
      if (fingerprint === this.fingerprint) return;
      await this.load();
      this.logger.log(`reloaded manifests from ${this.dir}`);
    } catch (error) {
      this.logger.warn(
        `keeping the previous manifests: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  private async currentFingerprint(): Promise<string> {
    const { readdir } = await import('node:fs/promises');
    const entries = await readdir(this.dir, { recursive: true });
    const stamps = await Promise.all(
      entries.sort().map(async (entry) => {
        const info = await stat(`${this.dir}/${entry}`).catch(() => undefined);
        return `${entry}:${info?.mtimeMs ?? 0}:${info?.size ?? 0}`;
      }),
    );
    return stamps.join('|');
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
