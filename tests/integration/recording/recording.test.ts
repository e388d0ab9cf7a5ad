import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { footageViewer } from '../../helpers/accessSteps.js';
import { approvedBySecondAdmin } from '../../helpers/changeSteps.js';
import { addCamera, waitForUp, type ApiError } from '../../helpers/cameraSteps.js';
import { GatewayProcess, mediaProcessesMentioning, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';
import { probeFormat, recordingList, runVerify, sha256Of, type SegmentView } from '../../helpers/recordings.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';

const SEGMENT_SECONDS = 10;
/** The test camera sends one keyframe per second: the most a cut between segments may lose. */
const GOP_S = 1;
const RECORD_MS = 185_000;

describe('continuous recording of a real camera', () => {
  let gw: GatewayProcess;
  let cam: TestCamera;
  let cameraId: string;
  let recDir: string;

  const fileOf = (s: SegmentView) => join(recDir, s.path);
  /** Finished footage files of the camera (date directories only). */
  const footageFiles = () =>
    readdirSync(join(recDir, cameraId))
      .filter((d) => /^\d{4}-\d\d-\d\d$/.test(d))
      .flatMap((d) => readdirSync(join(recDir, cameraId, d)).map((f) => join(cameraId, d, f)));

  beforeAll(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    requireTool('ffprobe', FFMPEG_INSTALL_HINT);
    cam = await TestCamera.start({ width: 640, height: 360 });
    gw = await GatewayProcess.start({ configYaml: `recording:\n  segmentSeconds: ${SEGMENT_SECONDS}\n  checkpointSeconds: 20` });
    recDir = join(gw.dataDir, 'data', 'recordings');
    cameraId = (await addCamera(gw, cam.url, 'Recorded camera')).id;
    await waitForUp(gw, cameraId, 1, 30_000);
  });

  afterAll(async () => {
    await stopAllGateways();
    await stopAllTestCameras();
    gw?.cleanup();
  });

  it('records 3+ minutes in playable, contiguous segments whose index matches the files', async () => {
    await gw.waitFor(
      `${RECORD_MS / 1000} s of indexed footage`,
      async () => {
        const segs = (await recordingList(gw, cameraId)).segments;
        return segs.length > 1 && Date.parse(segs.at(-1)!.end) - Date.parse(segs[0]!.start) >= RECORD_MS;
      },
      RECORD_MS + 90_000,
    );
    const before = await recordingList(gw, cameraId);
    const files = footageFiles();
    const after = await recordingList(gw, cameraId);
    const segs = before.segments;
    expect(segs.length).toBeGreaterThanOrEqual(Math.floor(RECORD_MS / 1000 / SEGMENT_SECONDS));
    expect(before.gaps).toEqual([]);
    expect(segs.every((s) => !s.partial)).toBe(true);

    // Index ↔ files: every indexed segment is there with its size and hash; no file is unindexed.
    for (const s of segs) {
      expect(statSync(fileOf(s)).size).toBe(s.bytes);
      expect(sha256Of(fileOf(s))).toBe(s.sha256);
      expect(s.path.startsWith(`${cameraId}/${s.start.slice(0, 10)}/`)).toBe(true);
    }
    expect(new Set(after.segments.map((s) => s.path))).toEqual(new Set([...files, ...after.segments.map((s) => s.path)]));
    expect(files.length).toBeGreaterThanOrEqual(segs.length);

    // Playable and contiguous by the media timestamps themselves (one timeline per ingest run).
    const formats = [];
    for (const s of segs) formats.push(await probeFormat(fileOf(s)));
    for (const [i, f] of formats.entries()) {
      expect(f.duration).toBeGreaterThan(SEGMENT_SECONDS - 2 * GOP_S);
      expect(f.duration).toBeLessThan(SEGMENT_SECONDS + 2 * GOP_S);
      const prev = formats[i - 1];
      if (prev) expect(Math.abs(f.startTime - (prev.startTime + prev.duration))).toBeLessThanOrEqual(GOP_S);
      const prevSeg = segs[i - 1];
      if (prevSeg) expect(Math.abs(Date.parse(segs[i]!.start) - Date.parse(prevSeg.end))).toBeLessThanOrEqual(GOP_S * 1000);
    }
  }, 400_000);

  it('plays a time range back over HLS with seeking; segments need the signed token', async () => {
    const all = (await recordingList(gw, cameraId)).segments;
    const from = Date.parse(all[1]!.start) + 1;
    const to = Date.parse(all[3]!.end) - 1;
    // Playing recordings is recorded.view: an officer under an approved view_recorded request.
    const officer = await footageViewer(gw, [cameraId], 'view_recorded');
    const list = await recordingList(gw, cameraId, from, to, officer);
    expect(list.segments.map((s) => s.seq)).toEqual([all[1]!.seq, all[2]!.seq, all[3]!.seq]);
    const expected = list.segments.reduce((n, s) => n + s.durationMs / 1000, 0);
    const format = await probeFormat(list.playback.hls);
    expect(Math.abs(format.duration - expected)).toBeLessThan(2);
    // Seek to 15 s into the range and decode a frame there.
    await promisify(execFile)('ffmpeg', ['-v', 'error', '-ss', '15', '-i', list.playback.hls, '-frames:v', '1', '-f', 'null', '-'], {
      timeout: 60_000,
    });

    const url = new URL(list.playback.hls);
    const segUrl = new URL(`${all[1]!.seq}.ts`, url);
    expect((await fetch(segUrl)).status).toBe(403);
    segUrl.search = url.search;
    const seg = await fetch(segUrl);
    expect(seg.status).toBe(200);
    expect(Buffer.from(await seg.arrayBuffer()).length).toBe(all[1]!.bytes);
    url.searchParams.set('token', `${url.searchParams.get('token')}x`);
    expect((await fetch(url)).status).toBe(403);
  }, 120_000);

  it('refuses to delete footage inside retention through the API, changing nothing', async () => {
    const segs = (await recordingList(gw, cameraId)).segments;
    const res = await gw.api<ApiError>('DELETE', `/api/v1/cameras/${cameraId}/recordings?from=0&to=${Date.now()}`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('RETENTION_LOCKED');
    expect(res.body.error.message).toMatch(/30-day retention/);
    for (const s of segs) expect(existsSync(fileOf(s))).toBe(true);
    expect((await recordingList(gw, cameraId)).segments.length).toBeGreaterThanOrEqual(segs.length);
  });

  it('places, lists and lifts an evidence hold, with a trace', async () => {
    const segs = (await recordingList(gw, cameraId)).segments;
    const created = await gw.api<{ id: number; createdBy: string }>('POST', '/api/v1/holds', {
      cameraIds: [cameraId],
      from: segs[0]!.start,
      to: segs[2]!.end,
      reason: 'incident 2026-118 at the gate',
    });
    expect(created.status).toBe(201);
    expect(created.body.createdBy).toBe('admin');
    const bad = await gw.api<ApiError>('POST', `/api/v1/holds/${created.body.id}/lift`, {});
    expect(bad.status).toBe(400);
    // Lifting a hold weakens protection: it applies when a second admin approves (four eyes).
    await approvedBySecondAdmin(gw, await gw.api('POST', `/api/v1/holds/${created.body.id}/lift`, { reason: 'case closed' }));
    const listed = await gw.api<{ items: Array<{ id: number; liftedAt: string | null; liftedBy: string; liftReason: string }> }>(
      'GET',
      '/api/v1/holds',
    );
    const lifted = listed.body.items.find((h) => h.id === created.body.id);
    expect(lifted).toMatchObject({ liftedBy: 'admin', liftReason: 'case closed' });
    expect(lifted?.liftedAt).not.toBeNull();
  });

  it('indexes the partial segment when the ingest ffmpeg is killed, records the gap with its cause, and resumes', async () => {
    const count = (await recordingList(gw, cameraId)).segments.length;
    await gw.waitFor('a new segment', async () => (await recordingList(gw, cameraId)).segments.length > count, 30_000);
    await sleep(4000); // well inside the next segment
    const logFrom = gw.logs.length;
    const pids = mediaProcessesMentioning(`:${cam.port}/`);
    expect(pids.length).toBe(1);
    process.kill(pids[0]!, 'SIGKILL');

    let list = await recordingList(gw, cameraId);
    await gw.waitFor(
      'the partial segment, a closed gap and a newer segment',
      async () => {
        list = await recordingList(gw, cameraId);
        const partial = list.segments.findIndex((s) => s.partial);
        return partial >= 0 && list.segments.length > partial + 1 && list.gaps.some((g) => g.end !== null);
      },
      60_000,
    );
    const i = list.segments.findIndex((s) => s.partial);
    const partial = list.segments[i]!;
    const next = list.segments[i + 1]!;
    expect(partial.durationMs).toBeGreaterThan(1000);
    expect(partial.durationMs).toBeLessThan(SEGMENT_SECONDS * 1000);
    const probed = await probeFormat(fileOf(partial));
    expect(probed.duration).toBeGreaterThan(1);
    expect(sha256Of(fileOf(partial))).toBe(partial.sha256);

    const down = await gw.waitForLine(
      (_l, e) => e?.msg === 'stream state' && e.cameraId === cameraId && e.stream === 'ingest' && e.to === 'backoff',
      5000,
      logFrom,
    );
    const downCause = down.entry?.cause;
    expect(downCause).toBeTypeOf('string');
    expect(list.gaps).toEqual([{ start: partial.end, end: next.start, cause: downCause }]);
    expect(Date.parse(next.start) - Date.parse(partial.end)).toBeLessThan(15_000);
  }, 120_000);

  it('psvgw verify passes on the untouched store, then names a modified, a missing and a foreign file', async () => {
    const segs = (await recordingList(gw, cameraId)).segments;
    expect(await gw.stop()).toBe(0);
    const clean = await runVerify(gw);
    expect(clean.stderr).toMatch(/verifying: 100%/);
    expect(clean.stdout).toMatch(/^OK: 1 camera\(s\), \d+ segment\(s\)/m);
    expect(clean.code).toBe(0);

    const [flipped, deleted, model] = [segs[2]!, segs[5]!, segs[7]!];
    const bytes = readFileSync(fileOf(flipped));
    const at = Math.floor(bytes.length / 2);
    bytes[at] = bytes[at]! ^ 0xff;
    writeFileSync(fileOf(flipped), bytes);
    rmSync(fileOf(deleted));
    const foreign = join(dirname(model.path), `${cameraId}_20991231T000000000Z.ts`);
    copyFileSync(fileOf(model), join(recDir, foreign));
    writeFileSync(join(recDir, foreign), Buffer.concat([readFileSync(join(recDir, foreign)), Buffer.from('foreign')]));

    const tampered = await runVerify(gw, ['--json']);
    expect(tampered.code).toBe(1);
    const report = JSON.parse(tampered.stdout) as { ok: boolean; findings: Array<{ kind: string; seq: number | null; path: string }> };
    expect(report.ok).toBe(false);
    expect(report.findings.map((f) => ({ kind: f.kind, seq: f.seq, path: f.path }))).toEqual([
      { kind: 'modified', seq: flipped.seq, path: flipped.path },
      { kind: 'missing', seq: deleted.seq, path: deleted.path },
      { kind: 'unexpected', seq: null, path: foreign },
    ]);
    const human = await runVerify(gw);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain(`MODIFIED           ${cameraId}  entry ${flipped.seq}  ${flipped.path}`);
    expect(human.stdout).toContain(`MISSING            ${cameraId}  entry ${deleted.seq}  ${deleted.path}`);
    expect(human.stdout).toContain(`UNEXPECTED         ${cameraId}  ${foreign}`);
    expect(human.stdout).toMatch(/^FAILED: 3 finding\(s\)/m);
  }, 120_000);
});
