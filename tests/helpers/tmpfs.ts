import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from './media.js';

/** A small tmpfs of the test's own, to fill up: a full disk without touching the machine's. */
export interface Tmpfs {
  dir: string;
  /** Unmounts and removes the mount point; safe to call once whatever happened. */
  remove(): void;
}

/** Mounts a `sizeMb` MB tmpfs on a new temporary directory (needs root or CAP_SYS_ADMIN). */
export function mountTmpfs(sizeMb: number, prefix: string): Tmpfs {
  requireTool('mount', 'apt-get install -y mount');
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`this test mounts a ${sizeMb} MB tmpfs and must run as root (or with CAP_SYS_ADMIN): ${String(err)}`);
  }
  return {
    dir,
    remove: () => {
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
