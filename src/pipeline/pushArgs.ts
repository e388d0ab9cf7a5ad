import { createHash } from 'node:crypto';
import { progressArgs } from './ingestArgs.js';

/** argv relaying a local tier to the sharing platform, without re-encoding. */
export function buildPushArgs(sourceUrl: string, target: string): string[] {
  const output = target.startsWith('rtsp')
    ? ['-f', 'rtsp', '-rtsp_transport', 'tcp', target]
    : ['-f', 'flv', '-flvflags', 'no_duration_filesize', target];
  return ['-hide_banner', '-nostdin', '-loglevel', 'warning', ...progressArgs(), '-i', sourceUrl, '-map', '0', '-c', 'copy', ...output];
}

/**
 * A stable, secret-free name for a push target (metric label, logs): scheme, host and the
 * first path segment, plus a short digest of the whole URL so two keys on one app differ.
 * Stream keys live in the rest of the path or the query and never appear.
 */
export function pushTargetLabel(target: string): string {
  const digest = createHash('sha256').update(target).digest('hex').slice(0, 8);
  try {
    const u = new URL(target);
    const app = u.pathname.split('/').filter(Boolean)[0] ?? '';
    return `${u.protocol}//${u.host}/${app}#${digest}`;
  } catch {
    return `invalid#${digest}`;
  }
}
