import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCamera, waitForUp } from '../../helpers/cameraSteps.js';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';
import { recordingList } from '../../helpers/recordings.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';
import { mountTmpfs, type Tmpfs } from '../../helpers/tmpfs.js';

const TMPFS_MB = 4;

/** Every file under a directory, relative to it. */
function allFiles(root: string, sub = ''): string[] {
  return readdirSync(join(root, sub), { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? allFiles(root, join(sub, d.name)) : [join(sub, d.name)],
  );
}

describe('a full recordings disk', () => {
  let gw: GatewayProcess;
  let tmpfs: Tmpfs | undefined;
  let mountDir: string;

  beforeAll(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    tmpfs = mountTmpfs(TMPFS_MB, 'psvgw-tmpfs-');
    mountDir = tmpfs.dir;
  });

  afterAll(async () => {
    await stopAllGateways();
    await stopAllTestCameras();
    gw?.cleanup();
    tmpfs?.remove();
  });

  it('raises a critical incident, stops writing segments with a disk_full gap and deletes nothing inside retention', async () => {
    const cam = await TestCamera.start({ width: 640, height: 360, pattern: 'snow' }); // ~2 Mbit/s: the disk fills in seconds
    gw = await GatewayProcess.start({
      configYaml: `recording:\n  dir: ${mountDir}\n  segmentSeconds: 2\n  minFreeMB: 1\n  diskCheckSeconds: 1\n  sweepSeconds: 1`,
    });
    const { id } = await addCamera(gw, cam.url, 'Camera on a small disk');
    await waitForUp(gw, id, 1, 30_000);

    await gw.waitFor(
      'the disk_full incident',
      async () => {
        const res = await gw.api<{ items: Array<{ kind: string; severity: string; cameraId: string | null }> }>('GET', '/api/v1/incidents');
        return res.body.items.some((i) => i.kind === 'disk_full' && i.severity === 'critical' && i.cameraId === null);
      },
      120_000,
    );
    // The log line and the gauge may trail the incident: wait for each rather than reading once.
    const line = await gw.waitForLine((_l, e) => typeof e?.msg === 'string' && e.msg.startsWith('disk full'), 15_000);
    expect(line.entry).toMatchObject({ level: 50 });
    await gw.waitFor('psvgw_recording_disk_full == 1', async () => (await gw.metric('psvgw_recording_disk_full')) === 1, 15_000);
    // The ingest restarts without its segment output; the live tiers go on.
    await waitForUp(gw, id, 1, 15_000);

    // Once ffmpeg has hit the end of the disk, no new segment appears.
    await sleep(6000);
    const settled = allFiles(mountDir).filter((f) => f.endsWith('.ts'));
    await sleep(6000);
    expect(allFiles(mountDir).filter((f) => f.endsWith('.ts'))).toEqual(settled);

    // Nothing indexed was deleted: every segment is still on the disk, no deletion in any list.
    const list = await recordingList(gw, id);
    expect(list.segments.length).toBeGreaterThan(0);
    expect(list.gaps).toEqual([{ start: list.segments.at(-1)?.end, end: null, cause: 'disk_full' }]);
    for (const s of list.segments) expect(existsSync(join(mountDir, s.path))).toBe(true);
    expect(gw.logs.some((l) => l.includes('retention sweep') && l.includes('"deleted"'))).toBe(false);
  }, 240_000);
});
