import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { Logger } from '../log.js';

/**
 * Every child's argv carries `psvgw=<instance id>` in its local stream URLs. A gateway
 * killed hard leaves nothing thanks to the parent-death signal, but where that is not
 * available (no setpriv) the next start finds and kills the previous run's children.
 */
/** This installation's instance id, made at the first start and kept in the settings. */
export async function instanceIdOf(settings: {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
}): Promise<string> {
  const existing = await settings.get('instance_id');
  if (existing) return existing;
  const id = randomUUID().replace(/-/g, '').slice(0, 16);
  await settings.set('instance_id', id);
  return id;
}

export function instanceMarker(instanceId: string): string {
  return `psvgw=${instanceId}`;
}

export function reapOrphans(instanceId: string, logger: Logger): number {
  const marker = instanceMarker(instanceId);
  let killed = 0;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!cmdline.includes(marker)) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed += 1;
    } catch {
      /* gone meanwhile */
    }
  }
  if (killed > 0) logger.warn({ killed }, 'killed media processes left over from a previous run');
  return killed;
}
