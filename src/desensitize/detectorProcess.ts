import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { DETECTOR_PY } from './detectorSource.js';
import { toHiddenRegion } from './faceRegion.js';
import type { Cascade, Detection, RegionKind } from './types.js';

/** The system interpreter: Debian's python3-opencv is built for it. */
export const DETECTOR_PYTHON = '/usr/bin/python3';
export const DETECTOR_INSTALL_HINT = 'apt-get install -y python3-opencv opencv-data';

export interface GrayFrame {
  width: number;
  height: number;
  pixels: Uint8Array;
}

export interface DetectResult {
  /** Boxes in the frame's own pixels (the downscaled detection frame). */
  detections: Detection[];
  /** CPU the detector spent on this frame. */
  cpuMs: number;
}

export interface DetectorProcessOptions {
  python?: string;
  /** Extra environment for the worker (DETECT_SCALE_FACTOR, ...). */
  env?: Record<string, string>;
}

const STDERR_KEEP = 4096;

/**
 * One detector worker: a Python child process speaking length-prefixed frames in, JSON lines out.
 * One frame in flight at a time (the caller drops frames while it is busy). Emits 'exit' once
 * with a reason when the process ends, however it ends.
 */
export class DetectorProcess extends EventEmitter<{ exit: [reason: string]; ready: [] }> {
  readonly #child: ChildProcessWithoutNullStreams;
  #buffer = '';
  #stderr = '';
  #ready = false;
  #exited: string | null = null;
  #nextId = 1;
  #pending: { id: number; resolve: (r: DetectResult) => void; reject: (e: Error) => void } | null = null;

  constructor(opts: DetectorProcessOptions = {}) {
    super();
    const python = opts.python ?? DETECTOR_PYTHON;
    this.#child = spawn(python, ['-u', '-c', DETECTOR_PY], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...opts.env },
    });
    this.#child.stdout.setEncoding('utf8');
    this.#child.stdout.on('data', (chunk: string) => this.#onData(chunk));
    this.#child.stderr.setEncoding('utf8');
    this.#child.stderr.on('data', (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-STDERR_KEEP);
    });
    // A write to a dead worker fails here, not as an uncaught error; 'exit' reports it.
    this.#child.stdin.on('error', () => {});
    this.#child.once('error', (err) =>
      this.#finish(`the detector could not start (${err.message}); it needs ${python} with python3-opencv: ${DETECTOR_INSTALL_HINT}`),
    );
    this.#child.once('close', (code, signal) => {
      const last = this.#stderr.trim().split('\n').slice(-1)[0] ?? '';
      this.#finish(signal ? `the detector was killed (${signal})` : `the detector exited (code ${code})${last ? `: ${last}` : ''}`);
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get ready(): boolean {
    return this.#ready;
  }

  get busy(): boolean {
    return this.#pending !== null;
  }

  get exited(): string | null {
    return this.#exited;
  }

  /** Detects faces and/or plates in one grayscale frame. Rejects if the worker ends meanwhile. */
  detect(frame: GrayFrame, kinds: { faces: boolean; plates: boolean }): Promise<DetectResult> {
    if (this.#exited) return Promise.reject(new Error(this.#exited));
    if (this.#pending) return Promise.reject(new Error('the detector is busy with another frame'));
    const id = this.#nextId++;
    const header = Buffer.from(JSON.stringify({ id, width: frame.width, height: frame.height, faces: kinds.faces, plates: kinds.plates }));
    const len = Buffer.alloc(4);
    len.writeUInt32LE(header.length);
    return new Promise<DetectResult>((resolve, reject) => {
      this.#pending = { id, resolve, reject };
      this.#child.stdin.write(Buffer.concat([len, header, frame.pixels]));
    });
  }

  /** Ends the worker: closes its input, then SIGKILL if it lingers. */
  async close(graceMs = 1000): Promise<void> {
    if (this.#exited) return;
    const closed = new Promise<void>((resolve) => this.once('exit', () => resolve()));
    this.#child.stdin.end();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    await closed;
    clearTimeout(timer);
  }

  #onData(chunk: string): void {
    this.#buffer += chunk;
    let nl: number;
    while ((nl = this.#buffer.indexOf('\n')) >= 0) {
      const line = this.#buffer.slice(0, nl);
      this.#buffer = this.#buffer.slice(nl + 1);
      this.#onLine(line);
    }
  }

  #onLine(line: string): void {
    let msg: { ready?: boolean; id?: number; faces?: (number | string)[][]; plates?: number[][]; cpuMs?: number };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      return;
    }
    if (msg.ready) {
      this.#ready = true;
      this.emit('ready');
      return;
    }
    const pending = this.#pending;
    if (!pending || msg.id !== pending.id) return;
    this.#pending = null;
    const toDetections = (boxes: (number | string)[][] | undefined, kind: RegionKind): Detection[] =>
      (boxes ?? []).map(([x = 0, y = 0, width = 0, height = 0, cascade]) => ({
        x: Number(x),
        y: Number(y),
        width: Number(width),
        height: Number(height),
        kind,
        ...(kind === 'plate' ? { cascade: 'plate' as const } : faceCascade(cascade)),
      }));
    pending.resolve({
      // Each box is cut to the face by its cascade's proportions before boxes on one face are merged.
      detections: mergeOverlapping(
        [...toDetections(msg.faces, 'face'), ...toDetections(msg.plates, 'plate')].map((d) => toHiddenRegion(d)),
      ),
      cpuMs: msg.cpuMs ?? 0,
    });
  }

  #finish(reason: string): void {
    if (this.#exited) return;
    this.#exited = reason;
    const pending = this.#pending;
    this.#pending = null;
    pending?.reject(new Error(reason));
    this.emit('exit', reason);
  }
}

function faceCascade(c: unknown): { cascade?: Cascade } {
  return c === 'frontal' || c === 'profile' || c === 'profileMirrored' ? { cascade: c } : {};
}

/**
 * The frontal and profile cascades often both fire on one face: boxes of one kind that overlap
 * much become their union (the larger hidden area is the safe side).
 */
export function mergeOverlapping(boxes: Detection[]): Detection[] {
  const out = boxes.map((b) => ({ ...b }));
  let merged = true;
  while (merged) {
    merged = false;
    for (let i = 0; i < out.length && !merged; i++) {
      for (let j = i + 1; j < out.length && !merged; j++) {
        const a = out[i]!;
        const b = out[j]!;
        if (a.kind !== b.kind) continue;
        const ix = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
        const iy = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
        const inter = ix * iy;
        if (inter < 0.3 * Math.min(a.width * a.height, b.width * b.height)) continue;
        const x = Math.min(a.x, b.x);
        const y = Math.min(a.y, b.y);
        out[i] = {
          kind: a.kind,
          x,
          y,
          width: Math.max(a.x + a.width, b.x + b.width) - x,
          height: Math.max(a.y + a.height, b.y + b.height) - y,
        };
        out.splice(j, 1);
        merged = true;
      }
    }
  }
  return out;
}
