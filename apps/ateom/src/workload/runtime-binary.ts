import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { InvalidRequestError, MissingInputError, RuntimeMismatchError } from '../sandbox';

/** Content-addressed runtime binaries are named `runsc-<sha256>` (atelet's asset cache, as upstream's). */
const CONTENT_ADDRESSED = /^runsc-([0-9a-f]{64})$/;

/** The sha256 a content-addressed binary path is pinned to, or undefined for any other name. */
export function pinnedSha256(path: string): string | undefined {
  return CONTENT_ADDRESSED.exec(basename(path))?.[1];
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/**
 * Checks the runsc binaries requests name before ateom runs them. A request names a content-addressed
 * binary `…/runsc-<sha256>`; its content must hash to that sha256, otherwise it is refused
 * ({@link RuntimeMismatchError}). An empty path means ateom's configured binary (the operator's
 * choice). A verified file is remembered by device, inode, size and mtime, so the ~60 MB binary is hashed
 * once, not on every restore.
 */
export class RuntimeBinaries {
  private readonly verified = new Map<string, string>();

  constructor(private readonly defaultRunsc: string) {}

  async runsc(requested: string): Promise<string> {
    if (requested === '') return this.defaultRunsc;
    const expected = pinnedSha256(requested);
    if (expected === undefined) {
      throw new InvalidRequestError(
        'runsc_path',
        `${JSON.stringify(requested)} must name a content-addressed binary runsc-<sha256>`,
      );
    }
    const info = await stat(requested, { bigint: true }).catch((error: unknown) => {
      throw new MissingInputError('runsc binary', requested, { cause: error });
    });
    if (!info.isFile()) throw new MissingInputError('runsc binary (a regular file)', requested);
    const identity = `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
    if (this.verified.get(requested) === identity) return requested;
    const actual = await sha256File(requested);
    if (actual !== expected) throw new RuntimeMismatchError(requested, expected, actual);
    this.verified.set(requested, identity);
    return requested;
  }
}
