import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DetectorProcess, detectionSize } from '../../../src/desensitize/index.js';

/**
 * The plate cascade (haarcascade_russian_plate_number from opencv-data) on a rendered
 * Chinese-style plate: blue, white border, "京A·12345" in WenQuanYi Micro Hei, 240x60 px in a
 * 640x360 frame, detected on the 480x270 detection frame. A drawing, not a photograph: it shows
 * the plate path works end to end, not how well real plates are found (see docs/desensitization.md).
 */
const FONT = '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc';
const PLATE = { x: 200, y: 150, width: 240, height: 60 };

describe('plate detection', () => {
  it('finds a rendered plate and no face on it', async () => {
    if (!existsSync(FONT)) throw new Error(`${FONT} is missing: apt-get install -y fonts-wqy-microhei`);
    const size = detectionSize(640, 360, 480);
    const vf =
      `drawbox=x=${PLATE.x}:y=${PLATE.y}:w=${PLATE.width}:h=${PLATE.height}:color=0x1040C0:t=fill,` +
      `drawbox=x=${PLATE.x + 3}:y=${PLATE.y + 3}:w=${PLATE.width - 6}:h=${PLATE.height - 6}:color=white:t=2,` +
      `drawtext=fontfile=${FONT}:text='京A·12345':fontsize=40:x=${PLATE.x + 14}:y=${PLATE.y + 8}:fontcolor=white,` +
      `scale=${size.width}:${size.height}:flags=area,format=gray`;
    const out = spawnSync(
      'ffmpeg',
      ['-v', 'error', '-f', 'lavfi', '-i', 'color=c=0x808080:s=640x360', '-frames:v', '1', '-vf', vf, '-f', 'rawvideo', '-'],
      {
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    expect(out.status, out.stderr?.toString()).toBe(0);
    const detector = new DetectorProcess();
    try {
      const r = await detector.detect({ ...size, pixels: new Uint8Array(out.stdout) }, { faces: true, plates: true });
      const k = 640 / size.width;
      const plates = r.detections
        .filter((d) => d.kind === 'plate')
        .map((d) => ({ x: d.x * k, y: d.y * k, width: d.width * k, height: d.height * k }));
      console.log(`plates found ${JSON.stringify(plates)} for the plate at ${JSON.stringify(PLATE)}; ${r.cpuMs} ms CPU`);
      expect(r.detections.filter((d) => d.kind === 'face')).toEqual([]);
      expect(plates).toHaveLength(1);
      const p = plates[0]!;
      // The box's centre lies on the plate.
      expect(p.x + p.width / 2).toBeGreaterThan(PLATE.x);
      expect(p.x + p.width / 2).toBeLessThan(PLATE.x + PLATE.width);
      expect(p.y + p.height / 2).toBeGreaterThan(PLATE.y);
      expect(p.y + p.height / 2).toBeLessThan(PLATE.y + PLATE.height);
    } finally {
      await detector.close();
    }
  });
});
