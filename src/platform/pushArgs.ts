import { createHash } from 'node:crypto';
import { supervisedArgs } from '../pipeline/index.js';

/**
 * Media time ffmpeg may analyse before relaying the local tier. ffmpeg's FLV reader cannot
 * tell that a video-only stream has no audio to come, so it reads its whole default
 * analyze duration (5 s) first: the platform got video seconds after each (re)start. The
 * tier is the gateway's own, its streams interleaved from the first packet and led by the
 * GOP cache, so half a second finds them all.
 */
const PUSH_ANALYZE_MICROSECONDS = 500_000;

/** argv relaying a local tier to the sharing platform, without re-encoding. */
export function buildPushArgs(sourceUrl: string, target: string): string[] {
  const output = target.startsWith('rtsp')
    ? ['-f', 'rtsp', '-rtsp_transport', 'tcp', target]
    : ['-f', 'flv', '-flvflags', 'no_duration_filesize', target];
  const input = ['-analyzeduration', String(PUSH_ANALYZE_MICROSECONDS), '-i', sourceUrl];
  return [...supervisedArgs(), ...input, '-map', '0', '-c', 'copy', ...output];
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
