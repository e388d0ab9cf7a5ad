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

/**
 * The marker in this gateway's children. Nodes of a cluster share the database's
 * instance id, so each node's name is part of its marker: a node starting on the same
 * host never takes another node's children for its own leftovers.
 */
export function instanceMarker(instanceId: string, node?: string): string {
  return node === undefined ? `psvgw=${instanceId}` : `psvgw=${instanceId}.${node}`;
}

export function reapOrphans(instanceId: string, logger: Logger, node?: string): number {
  const marker = instanceMarker(instanceId, node);
  // The marker whole: `psvgw=id.n1` must not match `psvgw=id.n10`, nor `psvgw=id` a node's `psvgw=id.n1`.
  const escaped = marker.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const whole = new RegExp(`${escaped}(?![A-Za-z0-9.-])`);
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
    if (!whole.test(cmdline)) continue;
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
