import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCamera } from '../../helpers/cameraSteps.js';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';
import { runVerify } from '../../helpers/recordings.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';

const STEPS = ['fsync', 'hash', 'rename', 'indexed'] as const;

interface VerifyJson {
  ok: boolean;
  segments: number;
  findings: Array<{ kind: string; path: string | null }>;
  recovered: Array<{ cameraId: string; seq: number; path: string }>;
}

/** Segment files of a camera: in its dated directories, non-empty ones still in `.incoming`, and ones moved aside. */
function segmentFiles(recDir: string, cameraId: string): { placed: string[]; incoming: string[]; damaged: string[] } {
  const root = join(recDir, cameraId);
  const list = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.ts'));
  const placed = readdirSync(root)
    .filter((d) => /^\d{4}-\d\d-\d\d$/.test(d))
    .flatMap((d) => list(join(root, d)).map((f) => join(cameraId, d, f)));
  const incoming = list(join(root, '.incoming')).filter((f) => statSync(join(root, '.incoming', f)).size > 0);
  const damaged = readdirSync(root).includes('.damaged') ? list(join(root, '.damaged')) : [];
  return { placed, incoming, damaged };
}

describe('a gateway killed while it writes a segment', () => {
  beforeAll(() => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    requireTool('ffprobe', FFMPEG_INSTALL_HINT);
  });

  afterAll(async () => {
    await stopAllGateways();
    await stopAllTestCameras();
  });

  // The four crashes run side by side to keep the test short, each with a gateway and a camera of its own:
  // one GStreamer camera shared by four gateways killed mid-stream once served the next client a stream
  // ffprobe could not read.
  it.concurrent.each(STEPS)(
    'SIGKILL after %s: restarted, every segment file is indexed, nothing is orphaned and psvgw verify exits 0',
    async (step) => {
      const cam = await TestCamera.start({ width: 320, height: 180 });
      const configYaml = 'recording:\n  segmentSeconds: 2';
      const first = await GatewayProcess.start({ configYaml, env: { NODE_ENV: 'test', PSVGW_TEST_PAUSE_AT: step } });
      try {
        const cameraId = (await addCamera(first, cam.url, `Killed at ${step}`)).id;
        await first.waitForLog(new RegExp(`recorder paused at step ${step}\\b`), 30_000);
        expect(await first.stop('SIGKILL')).toBeNull();

        const recDir = join(first.dataDir, 'data', 'recordings');
        const left = segmentFiles(recDir, cameraId);
        // What the kill left: the paused segment in .incoming (fsync, hash) or in place (rename, indexed).
        if (step === 'fsync' || step === 'hash') expect(left.incoming.length).toBeGreaterThan(0);
        else expect(left.placed.length).toBeGreaterThan(0);

        // The restart indexes what was left before it reports ready; a clean stop ends its own run.
        const second = await GatewayProcess.start({
          configYaml,
          dataDir: first.dataDir,
          env: { NODE_ENV: 'test', PSVGW_TEST_PAUSE_AT: '' },
        });
        expect(second.logs.some((l) => l.includes('recorder paused'))).toBe(false);
        expect(await second.stop('SIGTERM')).toBe(0);

        const after = segmentFiles(recDir, cameraId);
        expect(after.incoming).toEqual([]);
        const verify = await runVerify(first, ['--json']);
        const report = JSON.parse(verify.stdout) as VerifyJson;
        expect(report.findings).toEqual([]);
        expect(verify.code).toBe(0);
        // Every file in place is a live segment of the chain (verify finds none unindexed), and
        // every file the kill left is now in place, or moved aside when ffprobe could not read it.
        expect(report.segments).toBe(after.placed.length);
        for (const file of left.placed) expect(after.placed).toContain(file);
        expect(after.placed.length + after.damaged.length).toBeGreaterThanOrEqual(left.placed.length + left.incoming.length);
        // The segment the kill interrupted before its index transaction is marked recovered.
        if (step !== 'indexed') expect(report.recovered.length).toBeGreaterThan(0);
        const recovered = new Set(report.recovered.map((r) => r.path));
        if (step === 'rename') for (const file of left.placed) expect(recovered.has(file)).toBe(true);
        if (step === 'indexed') expect(recovered.has(left.placed[0]!)).toBe(false);
      } finally {
        first.cleanup();
      }
    },
    55_000,
  );
});
