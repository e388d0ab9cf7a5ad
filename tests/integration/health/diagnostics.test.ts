import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCamera, type ApiError } from '../../helpers/cameraSteps.js';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';
import { TestCamera, stopAllTestCameras, type TestCameraScene } from '../../helpers/testCamera.js';

const IMAGE_KINDS = ['image_black', 'image_frozen', 'image_blurred', 'image_covered', 'scene_changed', 'image_too_dark'];

interface DiagnosticsBody {
  cameraId: string;
  state: {
    sampler: { state: string };
    learningSecondsLeft: number;
    sampledAt: string | null;
    figures: { mean: number; motion: number | null; sharpnessRatio: number | null; similarity: number | null } | null;
    checks: Record<string, boolean>;
    thresholds: Record<string, number>;
  } | null;
  incidents: Array<{ kind: string; severity: string; cameraId: string; since: string }>;
}

/** Short debounce so the whole sequence fits in a few minutes; the defaults are longer. */
const CONFIG = `diagnostics:
  learnSeconds: 5
  fireAfterSeconds: 3
  clearAfterSeconds: 3
  frozenAfterSeconds: 6
`;
/** Longest wait for a condition to fire or clear on a loaded 2-core machine. */
const DETECT_MS = 40_000;

let camera: TestCamera;
let gw: GatewayProcess;
let cameraId: string;

async function diagnostics(): Promise<DiagnosticsBody> {
  const res = await gw.api<DiagnosticsBody>('GET', `/api/v1/cameras/${cameraId}/diagnostics`);
  if (res.status !== 200) throw new Error(`diagnostics answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

const activeKinds = (d: DiagnosticsBody) =>
  d.incidents
    .map((i) => i.kind)
    .filter((k) => IMAGE_KINDS.includes(k))
    .sort();

async function waitForKinds(expected: string[], what: string): Promise<number> {
  let last: DiagnosticsBody | null = null;
  try {
    return await gw.waitFor(
      what,
      async () => {
        last = await diagnostics();
        return JSON.stringify(activeKinds(last)) === JSON.stringify([...expected].sort());
      },
      DETECT_MS,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- last diagnostics ---\n${JSON.stringify(last)}`);
  }
}

beforeAll(async () => {
  requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
  camera = await TestCamera.start({ width: 320, height: 180, fps: 10, sceneControl: true });
  gw = await GatewayProcess.start({ configYaml: CONFIG });
  cameraId = (await addCamera(gw, camera.url, 'Diagnosed camera')).id;
}, 60_000);

afterAll(async () => {
  await stopAllGateways();
  await stopAllTestCameras();
});

describe('video-quality diagnostics against the real test camera', () => {
  it('learns the baseline, then a normal moving scene raises no image incident over a minute of video', async () => {
    await gw.waitFor('baseline learned', async () => (await diagnostics()).state?.learningSecondsLeft === 0, 60_000);
    const started = Date.now();
    let samples = 0;
    let lastSampledAt = '';
    while (Date.now() - started < 60_000) {
      const d = await diagnostics();
      expect(activeKinds(d), `image incidents during the normal scene at +${Date.now() - started} ms`).toEqual([]);
      expect(Object.values(d.state?.checks ?? {}).some(Boolean)).toBe(false);
      if (d.state?.sampledAt && d.state.sampledAt !== lastSampledAt) {
        samples += 1;
        lastSampledAt = d.state.sampledAt;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    // Sampling went on the whole minute (2 per second, read once a second here).
    expect(samples).toBeGreaterThan(45);
    const d = await diagnostics();
    expect(d.state?.figures?.sharpnessRatio).toBeGreaterThan(0.7);
    expect(d.state?.figures?.similarity).toBeGreaterThan(0.8);
    expect(await gw.metric('psvgw_image_condition', { camera_id: cameraId, check: 'image_black' })).toBe(0);
    expect(await gw.metric('psvgw_image_sharpness_ratio', { camera_id: cameraId })).toBeGreaterThan(0.7);
    // The gateway's own clock: synchronised, not, or unknown where neither timedatectl nor chronyc answers.
    expect([1, 0, -1]).toContain(await gw.metric('psvgw_ntp_synchronized'));
  }, 150_000);

  const cases: Array<[TestCameraScene, string]> = [
    ['black', 'image_black'],
    ['frozen', 'image_frozen'],
    ['blurred', 'image_blurred'],
    ['covered', 'image_covered'],
    ['dark', 'image_too_dark'],
    ['other', 'scene_changed'],
  ];
  for (const [scene, kind] of cases) {
    it(
      `the '${scene}' scene raises ${kind} (and only it), which resolves when the normal scene is back`,
      async () => {
        await camera.setScene(scene);
        const firedMs = await waitForKinds([kind], `${kind} firing`);
        const d = await diagnostics();
        expect(d.incidents.find((i) => i.kind === kind)?.severity).toBe('warning');
        const condition = async () => gw.metric('psvgw_image_condition', { camera_id: cameraId, check: kind });
        await gw.waitFor(`${kind} == 1 in the metrics`, async () => (await condition()) === 1, 5000);
        await camera.setScene('normal');
        const clearedMs = await waitForKinds([], `${kind} resolved`);
        await gw.waitFor(`${kind} == 0 in the metrics`, async () => (await condition()) === 0, 5000);
        console.log(`diagnostics: ${scene} → ${kind} fired after ${firedMs} ms, resolved ${clearedMs} ms after the normal scene`);
      },
      2 * DETECT_MS + 10_000,
    );
  }

  it(
    'a reference taken by the user makes the new view the normal one',
    async () => {
      await camera.setScene('other');
      await waitForKinds(['scene_changed'], 'scene_changed on the other view');
      const res = await gw.api<DiagnosticsBody>('POST', `/api/v1/cameras/${cameraId}/diagnostics/reference`);
      expect(res.status).toBe(202);
      expect(activeKinds(res.body)).toEqual([]);
      await gw.waitFor('new baseline learned', async () => (await diagnostics()).state?.learningSecondsLeft === 0, DETECT_MS);
      // The old view is now the changed one.
      await camera.setScene('normal');
      await waitForKinds(['scene_changed'], 'scene_changed on the old view');
    },
    3 * DETECT_MS,
  );

  it(
    'per-camera thresholds: bad values are refused and change nothing, good ones apply',
    async () => {
      const bad = await gw.api<ApiError>('PUT', `/api/v1/cameras/${cameraId}/diagnostics/thresholds`, { sceneMinSimilarity: 7, nope: 1 });
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('VALIDATION_FAILED');
      expect(bad.body.error.message).toMatch(/sceneMinSimilarity/);
      expect((await diagnostics()).state?.thresholds.sceneMinSimilarity).toBe(0.5);
      // Accepting any view as the same resolves the scene change.
      const ok = await gw.api<DiagnosticsBody>('PUT', `/api/v1/cameras/${cameraId}/diagnostics/thresholds`, { sceneMinSimilarity: -1 });
      expect(ok.status).toBe(200);
      expect(ok.body.state?.thresholds.sceneMinSimilarity).toBe(-1);
      await waitForKinds([], 'scene_changed resolved under the new threshold');
      const missing = await gw.api<ApiError>('GET', '/api/v1/cameras/99999999999999999999/diagnostics');
      expect(missing.status).toBe(404);
    },
    DETECT_MS + 10_000,
  );
});
