import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MissingInputError, runCommand } from '../sandbox';
import { durableDirName, type ActorPaths } from './workload-request';

/** The snapshot file holding the durable dirs: a tar whose top-level entries are their host directories. */
export const DURABLE_ARCHIVE = 'durable-dirs.tar';

const TAR_TIMEOUT_MS = 120_000;

/**
 * The host side of an actor's durable dirs. They are bind-mounted read-write into the sandbox, so their
 * contents live on the host, never in sandbox memory: a runsc checkpoint does not contain them. ateom
 * therefore archives them into every snapshot (Full and Data) and puts them back before every restore.
 */
export class DurableDirs {
  constructor(private readonly tar: string) {}

  /** Empties (and creates) the host directory of each mount path: a cold Run starts with empty dirs. */
  async reset(paths: ActorPaths, mountPaths: readonly string[]): Promise<void> {
    for (const mountPath of mountPaths) {
      const dir = paths.durableDir(mountPath);
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true, mode: 0o755 });
    }
  }

  /**
   * Writes `<intoDir>/durable-dirs.tar` with the host directories of `mountPaths` (written to a temporary
   * name, then renamed). The sandbox must be stopped or checkpointed first, so nothing writes meanwhile.
   */
  async archive(paths: ActorPaths, mountPaths: readonly string[], intoDir: string): Promise<string> {
    for (const mountPath of mountPaths) await mkdir(paths.durableDir(mountPath), { recursive: true });
    const target = join(intoDir, DURABLE_ARCHIVE);
    const temp = `${target}.tmp`;
    await runCommand(
      this.tar,
      [
        '-C',
        paths.durableRoot,
        '--format=posix',
        '--numeric-owner',
        '-cf',
        temp,
        ...mountPaths.map(durableDirName),
      ],
      { timeoutMs: TAR_TIMEOUT_MS },
    );
    await rename(temp, target);
    return DURABLE_ARCHIVE;
  }

  /**
   * Replaces the host directories of `mountPaths` with their contents in `<fromDir>/durable-dirs.tar`.
   * A snapshot without the archive restores empty dirs, unless `required` (Data scope), which fails.
   */
  async restore(
    paths: ActorPaths,
    mountPaths: readonly string[],
    fromDir: string,
    required: boolean,
  ): Promise<void> {
    const archive = join(fromDir, DURABLE_ARCHIVE);
    const present = existsSync(archive);
    if (!present && required) throw new MissingInputError('durable-dir archive of the snapshot', archive);
    await this.reset(paths, mountPaths);
    if (!present || mountPaths.length === 0) return;
    await runCommand(
      this.tar,
      ['-C', paths.durableRoot, '--numeric-owner', '-xpf', archive, ...mountPaths.map(durableDirName)],
      { timeoutMs: TAR_TIMEOUT_MS },
    );
  }
}
