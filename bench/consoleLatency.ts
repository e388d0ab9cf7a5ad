import type { ChildProcess } from 'node:child_process';
import { LineTail, nowMs, readLines, spawnTracked, stopChild } from './children.js';
import { summarize, type Summary } from './stats.js';
import { READER_OPTIONS } from './frames.js';

/**
 * Tile latency against a direct reader, from scene changes: the scene camera switches its
 * picture to black and back; a direct ffmpeg reader of the camera and each wall tile showing
 * it note when the decoded picture turns dark or bright. The same change seen by the tile
 * later than by the direct reader is what the gateway, WS-FLV, mpegts.js and the browser add.
 */

export type Turn = 'dark' | 'bright';

/** A picture turning dark or bright, at a wall-clock time (ms). */
export interface Transition {
  turn: Turn;
  at: number;
}

/** A tile's transition, as the browser reports it. */
export interface TileTransition extends Transition {
  tile: number;
}

/** Mean brightness (0–255) below which a picture is dark, above which it is bright; between: unchanged. */
const DARK_BELOW = 25;
const BRIGHT_ABOVE = 60;
const THUMB = { width: 32, height: 18 };

/**
 * ffmpeg decoding the camera's RTSP directly into 32×18 grey thumbnails (one per frame,
 * flushed per frame); each frame's mean brightness is taken as it reaches the benchmark.
 */
export class DirectBrightnessReader {
  readonly transitions: Transition[] = [];
  frames = 0;
  private readonly child: ChildProcess;
  private readonly stderr = new LineTail();
  private pending = Buffer.alloc(0);
  private state: Turn | null = null;

  constructor(readonly url: string) {
    const args = [
      '-hide_banner',
      '-loglevel',
      'error',
      ...READER_OPTIONS,
      '-rtsp_transport',
      'tcp',
      '-i',
      url,
      '-map',
      '0:v:0',
      '-vf',
      `scale=${THUMB.width}:${THUMB.height}:flags=area,format=gray`,
      '-flush_packets',
      '1',
      '-f',
      'rawvideo',
      'pipe:1',
    ];
    this.child = spawnTracked('ffmpeg', args);
    readLines(this.child.stderr, this.stderr.push);
    this.child.stdout?.on('data', (chunk: Buffer) => this.onData(chunk, nowMs()));
  }

  private onData(chunk: Buffer, at: number): void {
    const size = THUMB.width * THUMB.height;
    this.pending = Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= size) {
      let sum = 0;
      for (let i = 0; i < size; i++) sum += this.pending[i] as number;
      this.pending = this.pending.subarray(size);
      this.frames += 1;
      const turn = turnOf(sum / size, this.state);
      if (turn !== this.state) {
        if (this.state !== null) this.transitions.push({ turn, at });
        this.state = turn;
      }
    }
  }

  errors(): string {
    return this.stderr.text(5);
  }

  stop(): Promise<void> {
    return stopChild(this.child, 2000);
  }
}

function turnOf(mean: number, previous: Turn | null): Turn {
  if (mean < DARK_BELOW) return 'dark';
  if (mean > BRIGHT_ABOVE) return 'bright';
  return previous ?? 'bright';
}

/**
 * Browser-side source (a string: the benchmark is compiled without the DOM's types): on each
 * frame the tile presents (requestVideoFrameCallback), the picture is drawn at 32×18 and its
 * mean brightness read; a change from bright to dark or back is pushed, with Date.now(), to
 * `window.__psvgwTurns`. Only the given tiles are watched.
 */
export function watchTilesScript(tiles: readonly number[]): string {
  return `(() => {
    const turns = (window.__psvgwTurns = []);
    for (const tile of ${JSON.stringify(tiles)}) {
      const v = document.querySelector('[data-tile="' + tile + '"] video');
      if (!v) continue;
      const c = document.createElement('canvas');
      c.width = ${THUMB.width}; c.height = ${THUMB.height};
      const ctx = c.getContext('2d', { willReadFrequently: true });
      let state = null;
      const check = () => {
        const at = Date.now();
        ctx.drawImage(v, 0, 0, ${THUMB.width}, ${THUMB.height});
        const d = ctx.getImageData(0, 0, ${THUMB.width}, ${THUMB.height}).data;
        let sum = 0;
        for (let i = 0; i < d.length; i += 4) sum += d[i] + d[i + 1] + d[i + 2];
        const mean = sum / (d.length / 4) / 3;
        const turn = mean < ${DARK_BELOW} ? 'dark' : mean > ${BRIGHT_ABOVE} ? 'bright' : (state ?? 'bright');
        if (turn !== state) {
          if (state !== null) turns.push({ tile, turn, at });
          state = turn;
        }
        v.requestVideoFrameCallback(check);
      };
      v.requestVideoFrameCallback(check);
    }
    return true;
  })()`;
}

export const COLLECT_TURNS_SCRIPT = 'window.__psvgwTurns ?? []';

/** A scene change the camera acknowledged: the picture turns `turn` from frames after `at`. */
export interface SceneChange {
  turn: Turn;
  at: number;
}

export interface TileLatency {
  /** Tile's transition − the direct reader's transition of the same scene change, ms. */
  againstDirectReaderMs: Summary;
  /** The camera's acknowledgement of the scene change → the direct reader's transition, ms (its own decode path). */
  directReaderAfterSceneChangeMs: Summary;
  /** The camera's acknowledgement → the tile's transition, ms (close to glass-to-glass, camera encode included). */
  tileAfterSceneChangeMs: Summary;
  /** Scene changes sent, all scene cameras together. */
  sceneChanges: number;
  /** Tile × scene change pairs expected, matched and missed (a tile or the direct reader never showed it). */
  expected: number;
  matched: number;
  missed: number;
  samples: number[];
}

/** One scene camera: the changes it was sent, what its direct reader saw, and the tiles showing it. */
export interface SceneCameraRun {
  changes: readonly SceneChange[];
  direct: readonly Transition[];
  tiles: readonly number[];
}

/**
 * For each scene camera and change: the first transition of the change's kind at or after it,
 * before the next change of the same kind (two intervals later), the direct reader's and each
 * of its tiles'. `shown` holds every watched tile's transitions.
 */
export function matchSceneChanges(cameras: readonly SceneCameraRun[], shown: readonly TileTransition[], endAt: number): TileLatency {
  const against: number[] = [];
  const directDelay: number[] = [];
  const tileDelay: number[] = [];
  let expected = 0;
  let sceneChanges = 0;
  const firstOf = (list: readonly Transition[], change: SceneChange, until: number) =>
    list.find((t) => t.turn === change.turn && t.at >= change.at && t.at < until);
  for (const { changes, direct, tiles } of cameras) {
    sceneChanges += changes.length;
    changes.forEach((change, k) => {
      const until = changes[k + 2]?.at ?? endAt;
      const seen = firstOf(direct, change, until);
      if (seen) directDelay.push(seen.at - change.at);
      for (const tile of tiles) {
        expected += 1;
        const onTile = firstOf(
          shown.filter((t) => t.tile === tile),
          change,
          until,
        );
        if (!onTile) continue;
        tileDelay.push(onTile.at - change.at);
        if (seen) against.push(onTile.at - seen.at);
      }
    });
  }
  return {
    againstDirectReaderMs: summarize(against, 0),
    directReaderAfterSceneChangeMs: summarize(directDelay, 0),
    tileAfterSceneChangeMs: summarize(tileDelay, 0),
    sceneChanges,
    expected,
    matched: against.length,
    missed: expected - against.length,
    samples: against.map((v) => Math.round(v)),
  };
}
