import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCamera, streamUrls } from '../../helpers/cameraSteps.js';
import { grayFrames } from '../../helpers/frames.js';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';

const SIZE = { width: 320, height: 240 };

/**
 * Runs the real ffmpeg, but hands the masking transcode (the only run with a `[masked]`
 * filter graph) a filter that does not exist: a mask that cannot be applied.
 */
function impossibleFilterFfmpeg(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'psvgw-ffmpeg-')), 'ffmpeg');
  writeFileSync(
    file,
    `#!/usr/bin/python3
import os, sys
args = sys.argv[1:]
for i, arg in enumerate(args):
    if i > 0 and args[i - 1] == '-filter_complex' and '[masked]' in arg:
        args[i] = '[0:v]no_such_privacy_filter[masked]' + arg[arg.index('[masked]') + len('[masked]'):]
os.execvp('ffmpeg', ['ffmpeg'] + args)
`,
  );
  chmodSync(file, 0o755);
  return file;
}

describe('a mask that cannot be applied', () => {
  let gw: GatewayProcess;
  let cameraId: string;

  beforeAll(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    const camera = await TestCamera.start({ ...SIZE, fps: 25, pattern: 'snow' });
    gw = await GatewayProcess.start({
      configYaml: 'ingest:\n  backoff:\n    initialMs: 300\n    maxMs: 1000',
      env: { PSVGW_FFMPEG: impossibleFilterFfmpeg() },
    });
    cameraId = (
      await addCamera(gw, camera.url, 'Unmaskable gate', { masks: [{ shape: 'rect', x: 0, y: 0, w: 0.5, h: 0.5, mode: 'fill' }] })
    ).id;
    await gw.waitFor('the raw tier up', async () => (await gw.metric('psvgw_camera_up', { camera_id: cameraId })) === 1, 20_000);
  }, 60_000);

  afterAll(async () => {
    await stopAllGateways();
    await stopAllTestCameras();
  });

  it('leaves the shared tier dark, never raw, and says why', async () => {
    await gw.waitForLog(/shared tier dark: masking failed/, 15_000);
    const urls = await streamUrls(gw, cameraId);
    const [shared, raw] = await Promise.all([
      grayFrames(urls.shared.httpFlv, SIZE, { count: 25, timeoutMs: 6000 }),
      grayFrames(urls.raw.httpFlv, SIZE, { count: 25, timeoutMs: 6000 }),
    ]);
    const failure = gw.logs.find((l) => l.includes('shared tier dark: masking failed')) ?? '';
    console.log(`impossible filter: ${raw.length} raw frames, ${shared.length} shared frames in 6 s; log: ${failure.slice(0, 300)}`);
    expect(raw.length).toBe(25);
    expect(shared).toHaveLength(0);
    expect(failure).toMatch(/no_such_privacy_filter|No such filter|filter/i);
    expect(await gw.metric('psvgw_shared_tier_up', { camera_id: cameraId })).toBe(0);
  }, 40_000);
});
