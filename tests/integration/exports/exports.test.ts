import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportJob, RegisterEntry } from '../../../src/domain/index.js';
import {
  cutRange,
  concatList,
  DEFAULT_WATERMARK_FONT,
  drawtextFilter,
  sourceInputArgs,
  watermarkText,
  type ExportManifest,
} from '../../../src/exports/index.js';
import { decideRequest, DOCUMENTS, userWithRole } from '../../helpers/accessSteps.js';
import { addCamera, waitForUp, type ApiError } from '../../helpers/cameraSteps.js';
import { runCli } from '../../helpers/cli.js';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';
import { recordingList, sha256Of } from '../../helpers/recordings.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';

const run = promisify(execFile);
const WIDTH = 640;
const HEIGHT = 360;
/** Chinese names: the watermark must render them (CJK font). */
const STAFF = [
  { name: '张伟', unit: '城东派出所', credentialNo: 'GA-7340101' },
  { name: '李娜', unit: '城东派出所', credentialNo: 'GA-7340102' },
];
/** Where the watermark sits (top left, 0..1 of the frame). */
const REGION = { x: 0, y: 0, w: 0.7, h: 0.25 };

/** Decoded grey frames of an ffmpeg input (the first `count`). */
async function frames(args: string[], count: number): Promise<Buffer[]> {
  const size = WIDTH * HEIGHT;
  const child = spawn(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', ...args, '-frames:v', String(count), '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const chunks: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  await new Promise((resolve) => child.once('close', resolve));
  const all = Buffer.concat(chunks);
  const out: Buffer[] = [];
  for (let i = 0; i + size <= all.length; i += size) out.push(all.subarray(i, i + size));
  return out;
}

/** Share of the region's pixels that differ by more than a glyph's contrast can survive encoding. */
function differing(a: Buffer, b: Buffer): number {
  const [x1, y1] = [Math.floor(REGION.w * WIDTH), Math.floor(REGION.h * HEIGHT)];
  let n = 0;
  let diff = 0;
  for (let y = 0; y < y1; y++) {
    for (let x = 0; x < x1; x++) {
      n++;
      if (Math.abs((a[y * WIDTH + x] ?? 0) - (b[y * WIDTH + x] ?? 0)) > 96) diff++;
    }
  }
  return diff / n;
}

async function exitOf(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(cmd, args, { timeout: 30_000 });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('watermarked, signed exports of recordings', () => {
  let gw: GatewayProcess;
  let cameraId: string;
  let officer: string;
  let other: string;
  let approver: string;
  let requestId: string;
  let job: ExportJob;
  let work: string;
  let clip: string;
  let manifestPath: string;
  let manifest: ExportManifest;

  const create = (token: string, body: Record<string, unknown>) => gw.api<ExportJob | ApiError>('POST', '/api/v1/exports', body, token);
  const finished = async (id: string, token: string): Promise<ExportJob> => {
    let last: ExportJob | undefined;
    await gw.waitFor(
      `export ${id} to end`,
      async () => {
        last = (await gw.api<ExportJob>('GET', `/api/v1/exports/${id}`, undefined, token)).body;
        return last.state === 'done' || last.state === 'failed';
      },
      45_000,
      250,
    );
    return last!;
  };

  beforeAll(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    if (!existsSync(DEFAULT_WATERMARK_FONT)) throw new Error(`${DEFAULT_WATERMARK_FONT} is missing: apt-get install fonts-wqy-microhei`);
    work = mkdtempSync(join(tmpdir(), 'psvgw-export-test-'));
    const camera = await TestCamera.start({ width: WIDTH, height: HEIGHT });
    gw = await GatewayProcess.start({ configYaml: 'recording:\n  segmentSeconds: 2' });
    cameraId = (await addCamera(gw, camera.url, 'Gate east')).id;
    officer = await userWithRole(gw, 'officer', 'police');
    other = await userWithRole(gw, 'other', 'police');
    approver = await userWithRole(gw, 'approver', 'approver');
    await waitForUp(gw, cameraId, 1, 30_000);
    await gw.waitFor('three recorded segments', async () => (await recordingList(gw, cameraId)).segments.length >= 3, 40_000, 250);
  }, 90_000);

  afterAll(async () => {
    await stopAllGateways();
    await stopAllTestCameras();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('is refused before approval, and to anyone but the request filer after it', async () => {
    const now = Date.now();
    const filed = await gw.api<{ id: string }>(
      'POST',
      '/api/v1/access-requests',
      {
        kind: 'export',
        cameraIds: [cameraId],
        from: new Date(now - 3600_000).toISOString(),
        to: new Date(now + 3600_000).toISOString(),
        purpose: 'theft case 2026-118',
        destination: 'Chengdong station case file',
        staff: STAFF,
        documents: DOCUMENTS,
      },
      officer,
    );
    expect(filed.status).toBe(201);
    requestId = filed.body.id;
    const body = { requestId, cameraId, from: new Date(now - 60_000).toISOString(), to: new Date(now).toISOString() };

    const before = await create(officer, body);
    expect(before.status).toBe(403);
    expect((before.body as ApiError).error.message).toContain('needs an approved access request of kind export');
    const missing = await create(officer, { cameraId, from: body.from, to: body.to });
    expect(missing.status).toBe(400);
    expect((missing.body as ApiError).error.message).toContain('"requestId" is required');

    await decideRequest(gw, approver, requestId, 'approve');
    const notFiler = await create(other, body);
    expect(notFiler.status).toBe(403);
    expect(await gw.api('GET', '/api/v1/exports', undefined, other)).toMatchObject({ body: { items: [] } });
  });

  it('after approval the job runs to done: an H.264 MP4 of the range, downloadable by the requester, audited', async () => {
    const segs = (await recordingList(gw, cameraId)).segments;
    const from = Date.parse(segs[0]!.start) + 500;
    const to = Date.parse(segs[2]!.end) - 500;
    const answer = await create(officer, { requestId, cameraId, from: new Date(from).toISOString(), to: new Date(to).toISOString() });
    expect(answer.status).toBe(202);
    expect((answer.body as ExportJob).state).toMatch(/queued|running/);
    job = await finished((answer.body as ExportJob).id, officer);
    expect(job).toMatchObject({ state: 'done', progress: 1, error: null });

    for (const which of ['clip', 'manifest'] as const) {
      const refused = await fetch(`${gw.apiUrl}/api/v1/exports/${job.id}/${which}`, { headers: { authorization: `Bearer ${other}` } });
      expect(refused.status).toBe(403);
      const res = await fetch(`${gw.apiUrl}/api/v1/exports/${job.id}/${which}`, { headers: { authorization: `Bearer ${officer}` } });
      expect(res.status).toBe(200);
      writeFileSync(join(work, job[which]!), Buffer.from(await res.arrayBuffer()));
    }
    clip = join(work, job.clip!);
    manifestPath = join(work, job.manifest!);
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as ExportManifest;
    expect(sha256Of(clip)).toBe(manifest.clip.sha256);
    expect(manifest.request).toMatchObject({ id: requestId, kind: 'export', staff: STAFF.map(({ name, unit }) => ({ name, unit })) });
    expect(manifest.segments.map((s) => s.chainSeq)).toEqual(segs.slice(0, 3).map((s) => s.seq));
    expect(manifest.segments.map((s) => s.sha256)).toEqual(segs.slice(0, 3).map((s) => s.sha256));

    const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name:format=duration', '-of', 'json', clip]);
    const probe = JSON.parse(stdout) as { streams: Array<{ codec_name: string }>; format: { duration: string } };
    expect(probe.streams[0]?.codec_name).toBe('h264');
    expect(Math.abs(Number(probe.format.duration) - (to - from) / 1000)).toBeLessThan(1);
    // faststart: the index (moov) comes before the media data.
    const head = readFileSync(clip).subarray(0, 4096).toString('latin1');
    expect(head.indexOf('moov')).toBeGreaterThan(0);
    expect(head.indexOf('moov')).toBeLessThan(head.indexOf('mdat') === -1 ? Infinity : head.indexOf('mdat'));

    const audit = (await gw.api<{ items: Array<{ action: string; details: Record<string, unknown> }> }>('GET', '/api/v1/audit?limit=500'))
      .body.items;
    for (const action of ['export.create', 'export.complete']) {
      expect(audit.some((a) => a.action === action && a.details.jobId === job.id)).toBe(true);
    }

    // The export is in the access register like any other retrieval: its request, range and bytes;
    // downloading the clip is a copy of the footage, one more row written once the file has been sent
    // (the manifest holds no footage and is audited only).
    const rowsOf = async (method: RegisterEntry['method']) =>
      (await gw.api<{ items: RegisterEntry[] }>('GET', '/api/v1/access-register')).body.items.filter((e) => e.method === method);
    await gw.waitFor('the clip download in the access register', async () => (await rowsOf('copy')).length > 0, 10_000);
    for (const [method, protocol] of [
      ['export', 'mp4'],
      ['copy', 'http'],
    ] as const) {
      const rows = await rowsOf(method);
      expect(rows, method).toHaveLength(1);
      expect(rows[0], method).toMatchObject({
        tier: 'raw',
        requestId,
        cameraIds: [cameraId],
        footageFrom: new Date(from).toISOString(),
        footageTo: new Date(to).toISOString(),
        bytes: job.clipBytes,
        protocol,
      });
      expect(rows[0]!.retriever.username, method).toBe('officer');
    }
    expect((await rowsOf('copy'))[0]!.clientAddress).toMatch(/127\.0\.0\.1/);
  });

  it('psvgw export create runs a job with a progress bar and downloads both files; export verify accepts them', async () => {
    const segs = (await recordingList(gw, cameraId)).segments;
    const out = mkdtempSync(join(work, 'cli-'));
    const created = await runCli(
      ['export', 'create', '--request', requestId, '--camera', cameraId, '--from', segs[0]!.start, '--to', segs[1]!.end, '-o', out],
      { env: { PSVGW_API_URL: gw.apiUrl, PSVGW_ADMIN_TOKEN: officer }, timeoutMs: 60_000 },
    );
    expect(created.status, created.stderr).toBe(0);
    expect(created.stderr).toMatch(/export [0-9a-f-]+: 100%/);
    const files = readdirSync(out).sort();
    expect(files).toHaveLength(2);
    const verified = await runCli(['export', 'verify', join(out, files[1]!), join(out, files[0]!)]);
    expect(verified.status, verified.stdout).toBe(0);
    expect(verified.stdout).toContain('not pinned: pass --trust');
  });

  it('a job with nothing recorded in its range fails, naming why, and leaves no file behind', async () => {
    const now = Date.now();
    const answer = await create(officer, {
      requestId,
      cameraId,
      from: new Date(now - 3000_000).toISOString(),
      to: new Date(now - 2990_000).toISOString(),
    });
    const failed = await finished((answer.body as ExportJob).id, officer);
    expect(failed.state).toBe('failed');
    expect(failed.error).toContain('nothing of camera');
    expect(readdirSync(join(gw.dataDir, 'data', 'exports')).filter((f) => f.includes(failed.id))).toEqual([]);
  });

  it('the watermark is burned in: the clip differs from the source there and matches a rendering of the expected text', async () => {
    const expected = watermarkText({ requestId, staffNames: ['张伟', '李娜'], exportedAt: manifest.exportedAt });
    expect(manifest.watermark).toBe(expected);
    // The same cut of the same source segments, rendered three ways.
    const recDir = join(gw.dataDir, 'data', 'recordings');
    const listFile = join(work, 'segments.txt');
    writeFileSync(listFile, concatList(manifest.segments.map((s) => join(recDir, s.path))));
    const cut = cutRange(
      manifest.segments.map((s) => ({ startMs: Date.parse(s.start), endMs: Date.parse(s.end) })),
      Date.parse(job.from),
      Date.parse(job.to),
    );
    const input = sourceInputArgs(listFile, cut);
    const rendered = async (text: string | null) => {
      if (text === null) return frames([...input, '-fps_mode', 'vfr'], 8);
      const textFile = join(work, `text-${text.length}-${Date.now()}.txt`);
      writeFileSync(textFile, text);
      return frames([...input, '-vf', drawtextFilter({ fontFile: DEFAULT_WATERMARK_FONT, textFile }), '-fps_mode', 'vfr'], 8);
    };
    const fromClip = await frames(['-i', clip], 8);
    const source = await rendered(null);
    const withExpected = await rendered(expected);
    const withOtherRequest = await rendered(expected.replace(requestId, '00000000-0000-4000-8000-000000000000'));
    expect(fromClip.length).toBe(8);
    for (let i = 0; i < 8; i++) {
      const vsSource = differing(fromClip[i]!, source[i]!);
      const vsExpected = differing(fromClip[i]!, withExpected[i]!);
      const vsOther = differing(fromClip[i]!, withOtherRequest[i]!);
      expect(vsSource, `frame ${i}: watermark region against the source`).toBeGreaterThan(0.03);
      expect(vsExpected, `frame ${i}: against "${expected}" rendered`).toBeLessThan(0.002);
      expect(vsOther, `frame ${i}: against another request id rendered`).toBeGreaterThan(vsExpected + 0.002);
    }
  });

  it('export verify accepts the clip, and names a changed clip byte, a changed manifest field and an untrusted key', async () => {
    const fingerprint = manifest.signer.fingerprint;
    expect(gw.logs.some((l) => l.includes(`recording signing key ${fingerprint}`))).toBe(true);
    const verify = (c: string, m: string, trust = fingerprint) => runCli(['export', 'verify', c, m, '--trust', trust]);

    const ok = await verify(clip, manifestPath);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toContain('OK: the clip is the one the manifest signs');

    const bent = join(work, 'bent.mp4');
    copyFileSync(clip, bent);
    const bytes = readFileSync(bent);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = (bytes[at]! + 1) % 256;
    writeFileSync(bent, bytes);
    const bentManifest = join(work, 'bent.manifest.json');
    writeFileSync(bentManifest, JSON.stringify({ ...manifest, clip: { ...manifest.clip, file: 'bent.mp4' } }));
    const clipChanged = await verify(bent, manifestPath);
    expect(clipChanged.status).toBe(1);
    expect(clipChanged.stdout).toContain('FAIL clip_changed [clip.sha256]: clip changed');

    const edited = join(work, 'edited.manifest.json');
    writeFileSync(edited, JSON.stringify({ ...manifest, request: { ...manifest.request, purpose: 'something else' } }));
    const fieldChanged = await verify(clip, edited);
    expect(fieldChanged.status).toBe(1);
    expect(fieldChanged.stdout).toContain('FAIL signature_invalid [signature]');

    writeFileSync(edited, JSON.stringify({ ...manifest, clip: { ...manifest.clip, bytes: manifest.clip.bytes + 1 } }));
    const sizeChanged = await verify(clip, edited);
    expect(sizeChanged.status).toBe(1);
    expect(sizeChanged.stdout).toContain('FAIL field_changed [clip.bytes]');

    const untrusted = await verify(clip, manifestPath, 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect(untrusted.status).toBe(1);
    expect(untrusted.stdout).toContain('FAIL untrusted_key');
  });

  it('the README openssl / sha256sum steps verify it without the gateway, and refuse an edited manifest', async () => {
    // The steps of README "Checking an export without the gateway", verbatim.
    const steps = (m: string, c: string) => `set -e
M=${m}; C=${c}
jq -jcS 'del(.signature)' "$M" > payload.json
jq -r .signature "$M" | base64 -d > signature.bin
jq -r .signer.publicKey "$M" | base64 -d | openssl pkey -pubin -inform DER -out signer.pem
openssl pkeyutl -verify -pubin -inkey signer.pem -rawin -in payload.json -sigfile signature.bin
echo "$(jq -r .clip.sha256 "$M")  $C" | sha256sum -c
echo "SHA256:$(openssl pkey -pubin -in signer.pem -outform DER | openssl dgst -sha256 -binary | base64 | tr -d =)"`;
    const good = await exitOf('bash', ['-c', `cd ${work} && ${steps(manifestPath, clip)}`]);
    expect(good.code, good.out).toBe(0);
    expect(good.out).toContain('Signature Verified Successfully');
    expect(good.out).toContain(`${clip}: OK`);
    expect(good.out).toContain(manifest.signer.fingerprint);

    const edited = join(work, 'edited-openssl.manifest.json');
    writeFileSync(edited, JSON.stringify({ ...manifest, range: { ...manifest.range, to: manifest.range.from } }));
    const bad = await exitOf('bash', ['-c', `cd ${work} && ${steps(edited, clip)}`]);
    expect(bad.code).not.toBe(0);
    expect(bad.out).toContain('Signature Verification Failure');
  });

  it('once the request is revoked, no further export runs under it', async () => {
    const segs = (await recordingList(gw, cameraId)).segments;
    const body = { requestId, cameraId, from: segs[0]!.start, to: segs[1]!.end };
    await decideRequest(gw, approver, requestId, 'revoke');
    const refused = await create(officer, body);
    expect(refused.status).toBe(403);
    expect((refused.body as ApiError).error.message).toContain('needs an approved access request of kind export');
  });
});
