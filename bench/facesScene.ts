import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A composed test scene with real faces and known ground truth: two photographs that Debian's
 * python3-skimage ships (the astronaut, frontal; the cameraman, in profile) cut around the head
 * and moved over a scrolling photograph (coffee.png), so every face box is known exactly per frame.
 *
 * Six segments, one after the other: speeds 0, 50 and 200 px/s at a small and a large scale
 * (face heights 12% and 20% of the frame height). Each frame also carries its index as a strip
 * of black/white blocks in the bottom-left corner (see readFrameIndex), so a frame can be matched
 * to its ground truth after any pipeline (RTSP, transcode, masking) without trusting timestamps.
 */

export const SKIMAGE_DATA = '/usr/lib/python3/dist-packages/skimage/data';
export const SKIMAGE_INSTALL_HINT = 'apt-get install -y python3-skimage';

export interface TruthBox {
  id: 'astronaut' | 'cameraman';
  kind: 'face';
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface SceneSegment {
  speedPxPerS: number;
  faceHeightShare: number;
  firstFrame: number;
  frames: number;
}

export interface FacesScene {
  width: number;
  height: number;
  fps: number;
  segments: SceneSegment[];
  /** Ground truth per frame index. */
  truth: TruthBox[][];
}

interface Person {
  id: TruthBox['id'];
  file: string;
  /** Crop around the head in the source photograph. */
  crop: { x: number; y: number; width: number; height: number };
  /** The face inside the source photograph (brow/hairline to chin, ear to nose for the profile). */
  face: { x: number; y: number; width: number; height: number };
}

const PEOPLE: Person[] = [
  {
    id: 'astronaut',
    file: 'astronaut.png',
    crop: { x: 120, y: 10, width: 210, height: 220 },
    face: { x: 178, y: 70, width: 92, height: 96 },
  },
  {
    id: 'cameraman',
    file: 'camera.png',
    crop: { x: 110, y: 30, width: 190, height: 220 },
    face: { x: 186, y: 104, width: 72, height: 100 },
  },
];

export const SCENE_SPEEDS = [0, 50, 200] as const;
export const SCENE_FACE_SHARES = [0.12, 0.2] as const;
const BACKGROUND_SPEED_PX_PER_S = 30;
export const INDEX_BITS = 12;

/** Side of one block of the frame-index strip. */
export function indexBlock(width: number): number {
  return Math.max(8, Math.round(width / 64));
}

/** Pure layout: the ground truth of every frame, and where each sprite goes. */
export function sceneLayout(opts: { width: number; height: number; fps: number; segmentSeconds: number }): FacesScene & {
  sprites: { id: TruthBox['id']; scale: number; x: number; y: number; width: number; height: number }[][];
} {
  const { width, height, fps } = opts;
  const perSegment = Math.round(opts.segmentSeconds * fps);
  const segments: SceneSegment[] = [];
  const truth: TruthBox[][] = [];
  const sprites: { id: TruthBox['id']; scale: number; x: number; y: number; width: number; height: number }[][] = [];
  for (const share of SCENE_FACE_SHARES) {
    for (const speed of SCENE_SPEEDS) {
      segments.push({ speedPxPerS: speed, faceHeightShare: share, firstFrame: truth.length, frames: perSegment });
      for (let i = 0; i < perSegment; i++) {
        const t = i / fps;
        const frameTruth: TruthBox[] = [];
        const frameSprites: (typeof sprites)[number] = [];
        PEOPLE.forEach((p, row) => {
          const scale = (share * height) / p.face.height;
          const sw = Math.round(p.crop.width * scale);
          const sh = Math.round(p.crop.height * scale);
          const margin = Math.round(width * 0.03);
          const range = width - sw - 2 * margin;
          // Triangle wave: bounce between the edges; the two people start at opposite ends.
          const travel = speed * t + (row === 0 ? 0 : range);
          const phase = travel % (2 * range);
          const pos = Math.round(phase <= range ? phase : 2 * range - phase);
          const x = speed === 0 ? Math.round(row === 0 ? width * 0.15 : width * 0.55) : margin + pos;
          const y = row === 0 ? Math.round(height * 0.04) : height - sh - Math.round(height * 0.1);
          frameSprites.push({ id: p.id, scale, x, y, width: sw, height: sh });
          frameTruth.push({
            id: p.id,
            kind: 'face',
            x: x + Math.round((p.face.x - p.crop.x) * scale),
            y: y + Math.round((p.face.y - p.crop.y) * scale),
            width: Math.round(p.face.width * scale),
            height: Math.round(p.face.height * scale),
          });
        });
        truth.push(frameTruth);
        sprites.push(frameSprites);
      }
    }
  }
  return { width, height, fps, segments, truth, sprites };
}

function decodeRgb(file: string, vf: string, width: number, height: number): Buffer {
  const out = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-vf', `${vf},format=rgb24`, '-f', 'rawvideo', '-'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  if (out.error) throw new Error(`ffmpeg could not run (${out.error.message}); install it with: apt-get install -y ffmpeg`);
  if (out.status !== 0 || out.stdout.length !== width * height * 3) {
    throw new Error(`ffmpeg could not decode ${file}: ${out.stderr.toString().trim()}`);
  }
  return out.stdout;
}

/** Draws the frame index as INDEX_BITS blocks (white = 1) on a black strip, bottom-left. */
function drawIndex(frame: Buffer, width: number, height: number, index: number): void {
  const b = indexBlock(width);
  const y0 = height - 2 * b;
  for (let y = y0 - b / 2; y < height; y++) {
    for (let x = 0; x < (INDEX_BITS + 1) * b; x++) frame.fill(0, (y * width + x) * 3, (y * width + x) * 3 + 3);
  }
  for (let bit = 0; bit < INDEX_BITS; bit++) {
    if (((index >> bit) & 1) === 0) continue;
    const x0 = b / 2 + bit * b;
    for (let y = y0; y < y0 + b; y++) frame.fill(255, (y * width + x0) * 3, (y * width + x0 + b) * 3);
  }
}

/** Reads the frame index back from a decoded grayscale (luma) frame. */
export function readFrameIndex(luma: Uint8Array, width: number, height: number): number {
  const b = indexBlock(width);
  const yc = height - 2 * b + Math.floor(b / 2);
  let index = 0;
  for (let bit = 0; bit < INDEX_BITS; bit++) {
    const xc = Math.floor(b / 2 + bit * b + b / 2);
    if ((luma[yc * width + xc] ?? 0) > 128) index |= 1 << bit;
  }
  return index;
}

export interface ComposeOptions {
  width?: number;
  height?: number;
  fps?: number;
  segmentSeconds?: number;
  /** Folder for `scene.mp4`, `scene.json` and, with `jpegFrames`, `frames/%05d.jpg` (the looping camera's input). */
  dir: string;
  jpegFrames?: boolean;
}

export interface ComposedScene extends FacesScene {
  videoPath: string;
  truthPath: string;
  /** multifilesrc pattern of the JPEG frames, when asked for. */
  framesPattern?: string;
}

/** Composes the scene into `dir/scene.mp4` (H.264, one keyframe a second) and its ground truth `dir/scene.json`. */
export async function composeFacesScene(opts: ComposeOptions): Promise<ComposedScene> {
  const width = opts.width ?? 640;
  const height = opts.height ?? 360;
  const fps = opts.fps ?? 25;
  for (const p of PEOPLE) {
    if (!existsSync(join(SKIMAGE_DATA, p.file))) {
      throw new Error(`The faces scene needs ${join(SKIMAGE_DATA, p.file)}; install it with: ${SKIMAGE_INSTALL_HINT}`);
    }
  }
  const layout = sceneLayout({ width, height, fps, segmentSeconds: opts.segmentSeconds ?? 4 });
  const bgWidth = Math.round((600 / 400) * height);
  const background = decodeRgb(join(SKIMAGE_DATA, 'coffee.png'), `scale=${bgWidth}:${height}:flags=area`, bgWidth, height);
  const spriteCache = new Map<string, Buffer>();
  const spriteOf = (id: string, w: number, h: number): Buffer => {
    const key = `${id}:${w}x${h}`;
    let s = spriteCache.get(key);
    if (!s) {
      const p = PEOPLE.find((q) => q.id === id)!;
      const c = p.crop;
      s = decodeRgb(join(SKIMAGE_DATA, p.file), `crop=${c.width}:${c.height}:${c.x}:${c.y},scale=${w}:${h}:flags=area`, w, h);
      spriteCache.set(key, s);
    }
    return s;
  };

  mkdirSync(opts.dir, { recursive: true });
  const videoPath = join(opts.dir, 'scene.mp4');
  const truthPath = join(opts.dir, 'scene.json');
  const framesDir = join(opts.dir, 'frames');
  if (opts.jpegFrames) mkdirSync(framesDir, { recursive: true });
  const outputs = ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-g', String(fps), '-pix_fmt', 'yuv420p', videoPath];
  if (opts.jpegFrames) outputs.push('-map', '0:v', '-q:v', '2', join(framesDir, '%05d.jpg'));
  const enc = spawn(
    'ffmpeg',
    ['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(fps), '-i', '-', ...outputs],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  let stderr = '';
  enc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<void>((resolve, reject) => {
    enc.once('error', (e) => reject(new Error(`ffmpeg could not run (${e.message}); install it with: apt-get install -y ffmpeg`)));
    enc.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg failed composing the scene: ${stderr}`))));
  });
  const row = width * 3;
  for (let i = 0; i < layout.truth.length; i++) {
    // A fresh buffer per frame: the pipe may still hold the previous one.
    const frame = Buffer.alloc(width * height * 3);
    const scroll = Math.round((i / fps) * BACKGROUND_SPEED_PX_PER_S) % bgWidth;
    for (let y = 0; y < height; y++) {
      let x = 0;
      while (x < width) {
        const sx = (x + scroll) % bgWidth;
        const n = Math.min(width - x, bgWidth - sx);
        background.copy(frame, y * row + x * 3, (y * bgWidth + sx) * 3, (y * bgWidth + sx + n) * 3);
        x += n;
      }
    }
    for (const s of layout.sprites[i]!) {
      const px = spriteOf(s.id, s.width, s.height);
      for (let y = 0; y < s.height; y++) {
        px.copy(frame, ((s.y + y) * width + s.x) * 3, y * s.width * 3, (y + 1) * s.width * 3);
      }
    }
    drawIndex(frame, width, height, i);
    if (!enc.stdin.write(frame)) await new Promise((r) => enc.stdin.once('drain', r));
  }
  enc.stdin.end();
  await done;
  const scene: FacesScene = { width, height, fps, segments: layout.segments, truth: layout.truth };
  writeFileSync(truthPath, JSON.stringify(scene));
  return {
    ...scene,
    videoPath,
    truthPath,
    ...(opts.jpegFrames ? { framesPattern: join(framesDir, '%05d.jpg') } : {}),
  };
}
