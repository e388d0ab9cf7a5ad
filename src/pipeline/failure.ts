/**
 * Why a camera's stream is not flowing, read from what ffmpeg/ffprobe said. The cause
 * drives the user-facing error, the restart strategy (an unreachable camera is polled
 * cheaply before the next pull) and, later, the outage ledger.
 */
export type FailureCause =
  'auth_failed' | 'unreachable' | 'not_found' | 'stream_unplayable' | 'stalled' | 'start_timeout' | 'exited' | 'spawn_failed';

const PATTERNS: ReadonlyArray<readonly [RegExp, FailureCause]> = [
  [/401 Unauthorized|403 Forbidden|Authorization failed|authentication/i, 'auth_failed'],
  [
    /Connection refused|No route to host|Network is unreachable|Connection timed out|Name or service not known|Temporary failure in name resolution|Host is unreachable|Operation timed out/i,
    'unreachable',
  ],
  [/404 Not Found|Server returned 4\d\d|Stream not found/i, 'not_found'],
  [
    /Invalid data found|could not find codec parameters|Protocol not found|does not contain any stream|method DESCRIBE failed|Invalid argument/i,
    'stream_unplayable',
  ],
];

export function classifyFfmpegOutput(lines: readonly string[]): FailureCause | null {
  const text = lines.join('\n');
  for (const [pattern, cause] of PATTERNS) if (pattern.test(text)) return cause;
  return null;
}

/** Whether waiting for the host to accept TCP again is a good cheap signal to retry early. */
export function isReachabilityFailure(cause: FailureCause | null): boolean {
  return cause === 'unreachable';
}
