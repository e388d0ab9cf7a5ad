/** Runs one ffmpeg or ffprobe to its end with the gateway's child environment; progress from `-progress pipe:1`. */
import { spawn, type ChildProcess } from 'node:child_process';
import { childEnv } from '../childEnv.js';
import { ProgressParser, type ProgressSample } from '../pipeline/index.js';

export interface RunningChild {
  done: Promise<void>;
  kill(): void;
}

const STDERR_KEPT = 4000;

/** Resolves when the program exits 0; rejects with the end of its stderr otherwise. */
export function runTool(
  path: string,
  args: readonly string[],
  opts: { onProgress?: (s: ProgressSample) => void; onStdout?: (text: string) => void } = {},
): RunningChild {
  const child: ChildProcess = spawn(path, args, { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const parser = new ProgressParser();
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    if (opts.onProgress) for (const sample of parser.push(chunk)) opts.onProgress(sample);
    opts.onStdout?.(chunk.toString());
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-STDERR_KEPT);
  });
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${path} ended with ${signal ?? `exit code ${code}`}: ${stderr.trim() || 'no message'}`));
    });
  });
  return { done, kill: () => void child.kill('SIGKILL') };
}

/** ffprobe's codec name and duration of a file's first video stream. */
export async function probeClip(ffprobePath: string, file: string): Promise<{ codec: string; durationSeconds: number }> {
  let out = '';
  await runTool(
    ffprobePath,
    ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name:format=duration', '-of', 'json', file],
    { onStdout: (t) => (out += t) },
  ).done;
  const parsed = JSON.parse(out) as { streams?: Array<{ codec_name?: string }>; format?: { duration?: string } };
  return { codec: parsed.streams?.[0]?.codec_name ?? 'none', durationSeconds: Number(parsed.format?.duration ?? 0) };
}
