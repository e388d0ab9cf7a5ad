import type { ChildProcess } from 'node:child_process';
import WebSocket from 'ws';
import { LineTail, readLines, spawnTracked, stopChild } from './children.js';

/**
 * Decoded-frame fingerprints as they arrive: ffmpeg decodes a source and prints one
 * md5 per frame (`-f framemd5`, flushed per frame); each line is time-stamped when it
 * reaches the benchmark. Copy mode passes the camera's H.264 bitstream unchanged, so the
 * same frame read directly and through the gateway has the same md5.
 */

export interface Frame {
  md5: string;
  at: number;
}

export type FrameSource = { kind: 'rtsp'; url: string } | { kind: 'http-flv'; url: string } | { kind: 'ws-flv'; url: string };

/** Same decoder settings for every reader, so their decode delays cancel out. */
export const READER_OPTIONS = [
  '-fflags',
  'nobuffer',
  '-flags',
  'low_delay',
  '-analyzeduration',
  '1000000',
  '-probesize',
  '1000000',
  '-threads',
  '1',
];

export class Md5Reader {
  readonly frames: Frame[] = [];
  private readonly stderr = new LineTail();
  private ws: WebSocket | null = null;
  private readonly child: ChildProcess;

  constructor(readonly source: FrameSource) {
    const input =
      source.kind === 'rtsp'
        ? ['-rtsp_transport', 'tcp', '-i', source.url]
        : source.kind === 'http-flv'
          ? ['-f', 'flv', '-i', source.url]
          : ['-f', 'flv', '-i', 'pipe:0'];
    const args = [
      '-hide_banner',
      '-loglevel',
      'error',
      ...READER_OPTIONS,
      ...input,
      '-map',
      '0:v:0',
      '-flush_packets',
      '1',
      '-f',
      'framemd5',
      'pipe:1',
    ];
    this.child = spawnTracked('ffmpeg', args, { stdio: [source.kind === 'ws-flv' ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    readLines(this.child.stderr, this.stderr.push);
    readLines(this.child.stdout, (line, at) => {
      if (line.startsWith('#') || line.length === 0) return;
      const md5 = line.slice(line.lastIndexOf(',') + 1).trim();
      if (/^[0-9a-f]{32}$/.test(md5)) this.frames.push({ md5, at });
    });
    if (source.kind === 'ws-flv') {
      const ws = new WebSocket(source.url);
      this.ws = ws;
      const stdin = this.child.stdin;
      ws.on('message', (data: Buffer) => {
        if (stdin && !stdin.destroyed) stdin.write(data);
      });
      ws.on('error', (err) => this.stderr.push(`websocket: ${err.message}`));
      ws.on('close', () => stdin?.end());
      stdin?.on('error', () => undefined);
    }
  }

  errors(): string {
    return this.stderr.text(5);
  }

  async stop(): Promise<void> {
    this.ws?.terminate();
    await stopChild(this.child, 2000);
  }
}

export interface LatencyMatch {
  /** ms later than the direct reader, per matched frame. */
  deltas: number[];
  considered: number;
  matched: number;
}

/**
 * Pairs each frame of `later` (after its first `warmupMs`, which holds the GOP-cache
 * burst of a new viewer) with the direct reader's frame of the same md5 nearest in time.
 */
export function matchFrames(direct: readonly Frame[], later: readonly Frame[], warmupMs: number): LatencyMatch {
  const byMd5 = new Map<string, number[]>();
  for (const f of direct) byMd5.set(f.md5, [...(byMd5.get(f.md5) ?? []), f.at]);
  const first = later[0]?.at ?? 0;
  const deltas: number[] = [];
  let considered = 0;
  for (const f of later) {
    if (f.at - first < warmupMs) continue;
    considered += 1;
    const candidates = byMd5.get(f.md5);
    if (!candidates) continue;
    let best = candidates[0] as number;
    for (const c of candidates) if (Math.abs(f.at - c) < Math.abs(f.at - best)) best = c;
    deltas.push(f.at - best);
  }
  return { deltas, considered, matched: deltas.length };
}
