import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

import { requireTool } from './tools';

/**
 * The helper binaries an ateom process runs, by absolute path, as its environment (`ATEOM_RUNSC_PATH`,
 * `ATEOM_IP`, `ATEOM_NFT`, `ATEOM_SYSCTL`, `ATEOM_UNSHARE`, `ATEOM_NSENTER`, `ATEOM_TAR`).
 */
export function ateomToolsEnv(): Record<string, string> {
  return {
    ATEOM_RUNSC_PATH: requireTool('runsc'),
    ATEOM_IP: requireTool('ip'),
    ATEOM_NFT: requireTool('nft'),
    ATEOM_SYSCTL: requireTool('sysctl'),
    ATEOM_UNSHARE: requireTool('unshare'),
    ATEOM_NSENTER: requireTool('nsenter'),
    ATEOM_TAR: requireTool('tar'),
  };
}

/** A content-addressed runsc (`<dir>/runsc-<sha256>`, a symlink to the installed one), as atelet caches it. */
export function contentAddressedRunsc(dir: string): string {
  const runsc = requireTool('runsc');
  const sha = createHash('sha256').update(readFileSync(runsc)).digest('hex');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `runsc-${sha}`);
  rmSync(path, { force: true });
  symlinkSync(runsc, path);
  return path;
}
