import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../helpers/clusterDb.js';
import { startCameraFleet, stopAllCameraFleets, type CameraFleet } from '../../helpers/cameraFleet.js';
import { addCamera } from '../../helpers/cameraSteps.js';
import { decideRequest, fileRequest, footageViewer, userWithRole } from '../../helpers/accessSteps.js';
import { type GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { clusterNodeEnv, listNodes, startClusterNode, until } from '../../helpers/clusterNodes.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';
import type { ExportJob } from '../../../src/domain/index.js';
import { DEFAULT_WATERMARK_FONT } from '../../../src/exports/index.js';
import { recordingList, runVerify, type RecordingList } from '../../helpers/recordings.js';

/**
 * Two real nodes on one PostgreSQL database. Node A records a camera (node B is cordoned, so
 * the camera stays on A); its segments stay on A's disk and the index names A. B answers a
 * playback of A's footage through A (the picture decodes, one access register entry, on B);
 * with A killed, B answers 503 RECORDING_UNREACHABLE naming A and the time range; with A
 * started again on its data directory, B plays the same footage again. psvgw verify on B reports
 * A's segments unreachable (not missing) while A is dead, and checks them through A once it is
 * back. Exports likewise: asked
 * of B while A is dead, 503; once A is back, B cuts the clip from A's segments, and A hands the
 * clip out through B.
 */

const SEGMENT_SECONDS = 2;
const CONFIG = `cluster:\n  leaseSeconds: 6\nrecording:\n  segmentSeconds: ${SEGMENT_SECONDS}`;
const run = promisify(execFile);

interface Segment {
  seq: number;
  start: string;
  end: string;
  sha256: string;
  partial: boolean;
  node?: string;
}
interface ErrorBody {
  error?: { code?: string; message?: string; details?: { unreachable?: Array<{ node: string; from: string; to: string }> } };
}

describe('cluster mode: recordings are played through the node that holds them', { timeout: 240_000 }, () => {
  let db: TestDatabase;
  let fleet: CameraFleet;
  let shared: string;
  let a: GatewayProcess;
  let b: GatewayProcess;
  let cameraId: string;
  let officer: string;
  let exportRequest: string;
  /** A's footage: the first to the last complete segment it had recorded when it was killed. */
  let range: { from: number; to: number; segments: Segment[] };

  const start = (name: string, dataDir?: string) =>
    startClusterNode({ name, dbUrl: db.url, sharedDir: shared, configYaml: CONFIG, ...(dataDir === undefined ? {} : { dataDir }) });
  /** psvgw verify of the camera on B's data directory, with B's environment. */
  const verifyOnB = () => runVerify(b, ['--camera', cameraId], clusterNodeEnv({ name: 'rb', dbUrl: db.url }));
  const list = (via: GatewayProcess, from: number, to: number) => recordingList(via, cameraId, from, to, officer);
  /** The HLS URL B hands out for A's footage (the recordings list, as the officer). */
  const hlsOn = async (via: GatewayProcess) => {
    const playback = (await list(via, range.from, range.to)).playback as RecordingList['playback'] | { refused: string };
    if ('refused' in playback) throw new Error(`playback refused: ${playback.refused}`);
    return playback.hls;
  };
  /** Decodes every video frame of an HLS URL; resolves with the count. */
  const decodedFrames = async (url: string) => {
    const { stdout } = await run(
      'ffprobe',
      ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', url],
      { timeout: 60_000 },
    );
    // HLS lists its streams under a program too: the first line is the stream's count.
    const frames = Number(stdout.trim().split('\n')[0]);
    if (!Number.isFinite(frames)) throw new Error(`ffprobe counted no frames: ${stdout}`);
    return frames;
  };

  beforeAll(async () => {
    requireTool('ffprobe', FFMPEG_INSTALL_HINT);
    if (!existsSync(DEFAULT_WATERMARK_FONT)) throw new Error(`${DEFAULT_WATERMARK_FONT} is missing: apt-get install fonts-wqy-microhei`);
    db = await createTestDatabase();
    shared = mkdtempSync(join(tmpdir(), 'psvgw-cluster-recloc-'));
    fleet = await startCameraFleet({ count: 1 });
    a = await start('ra');
    b = await start('rb');
    // B takes no camera: the camera records on A all along.
    expect((await b.api('POST', '/api/v1/nodes/rb/cordon')).status).toBeLessThan(300);
    await until('two live nodes', async () => ((await listNodes(b)).filter((n) => n.alive).length === 2 ? true : undefined), 15_000);
    cameraId = (await addCamera(a, fleet.urls[0] as string, 'Recorded on A')).id;
    officer = await footageViewer(b, [cameraId], 'view_recorded');
    const now = Date.now();
    exportRequest = await fileRequest(b, officer, 'export', [cameraId], { from: new Date(now - 3_600_000), to: new Date(now + 3_600_000) });
    await decideRequest(b, await userWithRole(b, 'approver-recloc', 'approver'), exportRequest, 'approve');
  }, 120_000);

  afterAll(async () => {
    await stopAllGateways();
    await stopAllCameraFleets();
    await db?.drop();
    if (shared !== undefined) rmSync(shared, { recursive: true, force: true });
  });

  it("the index names node A for A's segments; B plays them through A: whole bytes, decoded frames, one register entry on B", async () => {
    const complete = await until(
      'three complete segments recorded on A',
      async () => {
        const segments = (await list(b, 0, Date.now() + 3_600_000)).segments as Segment[];
        const done = segments.filter((s) => !s.partial);
        return done.length >= 3 ? done : undefined;
      },
      60_000,
    );
    expect(complete.every((s) => s.node === 'ra')).toBe(true);
    range = { from: Date.parse(complete[0]!.start), to: Date.parse(complete.at(-1)!.end), segments: complete };

    const hls = await hlsOn(b);
    expect(new URL(hls).port).toBe(String(b.ports.http));
    // Each segment B serves is A's file, byte for byte (the list's SHA-256 is the chain's).
    const playlist = await fetch(hls);
    expect(playlist.status).toBe(200);
    const lines = (await playlist.text()).split('\n').filter((l) => /^\d+\.ts\?/.test(l));
    expect(lines.length).toBeGreaterThanOrEqual(3);
    const sha = new Map(range.segments.map((s) => [s.seq, s.sha256]));
    for (const line of lines) {
      const res = await fetch(new URL(line, hls));
      expect(res.status).toBe(200);
      const seq = Number(line.split('.')[0]);
      if (sha.has(seq))
        expect(
          createHash('sha256')
            .update(Buffer.from(await res.arrayBuffer()))
            .digest('hex'),
        ).toBe(sha.get(seq));
      else await res.arrayBuffer();
    }
    expect(await decodedFrames(hls)).toBeGreaterThan(SEGMENT_SECONDS * 5);

    // One recorded view in the register, written by B (A hands over files without registering them).
    const auditor = await userWithRole(b, 'auditor-recloc', 'auditor');
    const register = (via: GatewayProcess) =>
      via.api<{ items: Array<{ method: string; cameraIds: string[] }>; ongoing: unknown[] }>(
        'GET',
        `/api/v1/access-register?cameraId=${cameraId}`,
        undefined,
        auditor,
      );
    const items = await until(
      'the recorded view registered once both nodes have nothing ongoing',
      async () => {
        const [onB, onA] = [(await register(b)).body, (await register(a)).body];
        const views = onB.items.filter((r) => r.method === 'view_recorded');
        return views.length > 0 && onB.ongoing.length === 0 && onA.ongoing.length === 0 ? views : undefined;
      },
      30_000,
    );
    expect(items).toHaveLength(1);
  });

  it('A killed: B answers 503 RECORDING_UNREACHABLE naming A and the time range; A back: B plays it again', async () => {
    const hls = await hlsOn(b);
    const dataDirA = a.dataDir;
    await a.stop('SIGKILL');
    const refused = await until(
      'B reporting A as not alive',
      async () => {
        const res = await fetch(hls);
        const body = (await res.json().catch(() => ({}))) as ErrorBody;
        return res.status === 503 && /not alive/.test(body.error?.message ?? '') ? body : undefined;
      },
      30_000,
    );
    expect(refused.error?.code).toBe('RECORDING_UNREACHABLE');
    expect(refused.error?.message).toMatch(/unreachable, not missing/);
    expect(refused.error?.message).toContain('node ra');
    const span = refused.error?.details?.unreachable?.[0];
    expect(span?.node).toBe('ra');
    expect(Date.parse(span!.from)).toBeLessThanOrEqual(range.from + 1);
    expect(Date.parse(span!.to)).toBeGreaterThanOrEqual(range.to - 1);
    // A segment fetch says the same (the playlist was handed out before).
    const seg = await fetch(new URL(`${range.segments[0]!.seq}.ts${new URL(hls).search}`, hls));
    expect(seg.status).toBe(503);
    expect(((await seg.json()) as ErrorBody).error?.code).toBe('RECORDING_UNREACHABLE');
    // psvgw verify on B: A's segments are unreachable, naming A; none is missing or modified.
    const dead = await verifyOnB();
    expect(dead.code).toBe(1);
    expect(dead.stdout).toMatch(/UNREACHABLE .*held by node ra, which is not alive.*unreachable, not missing/);
    expect(dead.stdout).not.toMatch(/^(MISSING|MODIFIED)/m);
    // An export of that footage is refused at once, and nothing is queued.
    const exportBody = {
      requestId: exportRequest,
      cameraId,
      from: new Date(range.from).toISOString(),
      to: new Date(range.to).toISOString(),
    };
    const refusedExport = await b.api<ErrorBody>('POST', '/api/v1/exports', exportBody, officer);
    expect(refusedExport.status).toBe(503);
    expect(refusedExport.body.error?.code).toBe('RECORDING_UNREACHABLE');
    expect(refusedExport.body.error?.message).toContain('node ra');
    expect((await b.api<{ items: unknown[] }>('GET', '/api/v1/exports', undefined, officer)).body.items).toHaveLength(0);

    a = await start('ra', dataDirA);
    const frames = await until(
      "B playing A's footage again",
      async () => {
        const res = await fetch(hls);
        if (res.status !== 200) return undefined;
        await res.arrayBuffer();
        return decodedFrames(await hlsOn(b));
      },
      60_000,
    );
    expect(frames).toBeGreaterThan(SEGMENT_SECONDS * 5);
    // Verify on B now hashes A's segments through A.
    const back = await verifyOnB();
    expect(back.stdout).not.toMatch(/UNREACHABLE|MISSING|MODIFIED/);
    expect(back.code, back.stdout + back.stderr).toBe(0);

    // The same export now: made on B (the node asked) from A's segments; its clip downloads on either node.
    const created = await b.api<ExportJob>('POST', '/api/v1/exports', exportBody, officer);
    expect(created.status).toBe(202);
    expect(created.body.node).toBe('rb');
    const job = await until(
      'the export finished',
      async () => {
        const j = (await b.api<ExportJob>('GET', `/api/v1/exports/${created.body.id}`, undefined, officer)).body;
        if (j.state === 'failed') throw new Error(`export failed: ${j.error}`);
        return j.state === 'done' ? j : undefined;
      },
      90_000,
    );
    for (const via of [b, a]) {
      const res = await fetch(`${via.apiUrl}/api/v1/exports/${job.id}/clip`, { headers: { authorization: `Bearer ${officer}` } });
      expect(res.status).toBe(200);
      expect(
        createHash('sha256')
          .update(Buffer.from(await res.arrayBuffer()))
          .digest('hex'),
      ).toBe(job.clipSha256);
    }
  });
});
