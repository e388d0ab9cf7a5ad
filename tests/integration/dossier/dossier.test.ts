import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTar, verifyDossier, type Manifest } from '../../../src/dossier/index.js';
import { ChainSigner } from '../../../src/recording/index.js';
import { userWithRole } from '../../helpers/accessSteps.js';
import { addCamera, waitForUp } from '../../helpers/cameraSteps.js';
import { runCli } from '../../helpers/cli.js';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';
import { recordingList } from '../../helpers/recordings.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';

const PARTS = ['filing-report', 'outage-ledger', 'access-register', 'public-requests', 'audit-verification', 'recording-integrity'];

interface IntegrityJson {
  verification: { ok: boolean; segments: number; findings: unknown[] };
  cameras: Array<{
    cameraId: string;
    hours: Array<{ segments: number }>;
    checkpoints: Array<{ signature: string; keyFingerprint: string }>;
  }>;
}

/** Must show 9: the dossier of a run holds every part, verifies offline, and names the part of any flipped byte. */
describe('the compliance dossier of a test run', () => {
  let gw: GatewayProcess;
  let cameraId: string;
  let tokens: { auditor: string; operator: string };
  const from = new Date(Date.now() - 60_000);
  const cli = (...args: string[]) => runCli(args, { env: { PSVGW_DATA_DIR: join(gw.dataDir, 'data') } });
  const download = (token: string, query: string) =>
    fetch(`${gw.apiUrl}/api/v1/dossier?${query}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(30_000) });

  beforeAll(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    const camera = await TestCamera.start({ width: 320, height: 240 });
    gw = await GatewayProcess.start({ configYaml: 'recording:\n  segmentSeconds: 2\n  checkpointSeconds: 5' });
    cameraId = (await addCamera(gw, camera.url, 'Dossier gate')).id;
    tokens = { auditor: await userWithRole(gw, 'dossier.auditor', 'auditor'), operator: await userWithRole(gw, 'dossier.op', 'operator') };
    await waitForUp(gw, cameraId, 1, 30_000);
    await gw.waitFor('three recorded segments', async () => (await recordingList(gw, cameraId)).segments.length >= 3, 30_000, 250);
    // One view for the register part: the operator's snapshot of the shared tier.
    const snapshot = await fetch(`${gw.apiUrl}/api/v1/cameras/${cameraId}/snapshot?tier=shared`, {
      headers: { authorization: `Bearer ${tokens.operator}` },
      signal: AbortSignal.timeout(30_000),
    });
    expect(snapshot.status).toBe(200);
  }, 90_000);

  afterAll(async () => {
    await stopAllGateways();
    await stopAllTestCameras();
    gw?.cleanup();
  });

  it('the API hands an auditor the signed bundle, refuses an operator and names a bad period', async () => {
    const query = `from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(new Date().toISOString())}`;
    const res = await download(tokens.auditor, query);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/x-tar');
    const report = verifyDossier(Buffer.from(await res.arrayBuffer()));
    expect(report.problems).toEqual([]);
    expect(report.parts).toEqual(PARTS);
    expect((await download(tokens.operator, query)).status).toBe(403);
    const bad = await download(tokens.auditor, 'from=yesterday');
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/from must be a date/);
    const audited = await gw.api<{ items: Array<{ action: string; outcome: string }> }>('GET', '/api/v1/audit?action=dossier.create');
    expect(audited.body.items).toEqual([expect.objectContaining({ action: 'dossier.create', outcome: 'ok' })]);
  });

  it('the CLI writes it from the store after close; it verifies, and a byte flipped in any part is named', async () => {
    expect(await gw.stopProcess()).toBe(0);
    const outDir = gw.dataDir;
    const file = join(outDir, 'dossier.tar');
    const written = await cli('dossier', '--config', join(gw.dataDir, 'gateway.yaml'), '--from', from.toISOString(), '-o', file);
    expect(written.stderr).not.toMatch(/error/);
    expect(written.status).toBe(0);
    for (const part of PARTS) expect(written.stderr).toMatch(new RegExp(`part \\d/6 ${part}: done`));
    expect(readdirSync(outDir).filter((f) => f.endsWith('.partial'))).toEqual([]);

    const fingerprint = ChainSigner.load(join(gw.dataDir, 'data')).fingerprint;
    const verified = await cli('dossier', 'verify', file, '--trust', fingerprint);
    expect(verified.stdout).toMatch(/OK: 6 part\(s\), 16 file\(s\) verified/);
    expect(verified.stdout).toContain(`signer ${fingerprint} (pinned)`);
    expect(verified.status).toBe(0);

    // Every part as JSON and HTML (outages also PDF); the verifications passed and carry the signatures.
    const bytes = readFileSync(file);
    const files = readTar(bytes);
    const byName = new Map(files.map((f) => [f.name, f.data]));
    for (const part of PARTS) for (const ext of ['json', 'html']) expect(byName.get(`${part}.${ext}`)?.length).toBeGreaterThan(0);
    expect(byName.get('outage-ledger.pdf')?.subarray(0, 5).toString()).toBe('%PDF-');
    expect(byName.get('access-register.pdf')?.subarray(0, 5).toString()).toBe('%PDF-');
    const register = JSON.parse(byName.get('access-register.json')!.toString()) as {
      items: Array<{ method: string; cameraIds: string[] }>;
    };
    expect(register.items).toContainEqual(expect.objectContaining({ method: 'view_live', cameraIds: [cameraId] }));
    const manifest = JSON.parse(byName.get('manifest.json')!.toString()) as Manifest;
    expect(manifest.signer.fingerprint).toBe(fingerprint);
    expect(manifest.period.from).toBe(from.toISOString());
    const integrity = JSON.parse(byName.get('recording-integrity.json')!.toString()) as IntegrityJson;
    expect(integrity.verification.findings).toEqual([]);
    expect(integrity.verification.ok).toBe(true);
    const cam = integrity.cameras.find((c) => c.cameraId === cameraId);
    expect(cam?.hours.reduce((n, h) => n + h.segments, 0)).toBeGreaterThanOrEqual(3);
    expect(cam?.checkpoints.at(-1)?.keyFingerprint).toBe(fingerprint);
    const audit = JSON.parse(byName.get('audit-verification.json')!.toString()) as {
      verification: { ok: boolean };
      checkpoints: unknown[];
    };
    expect(audit.verification.ok).toBe(true);
    expect(audit.checkpoints.length).toBeGreaterThan(0);

    // One byte flipped in each file of each part, in a copy: verification names that part.
    const partFiles = files.filter((f) => manifest.files.some((m) => m.path === f.name && PARTS.includes(m.part)));
    expect(partFiles.length).toBe(14);
    for (const f of partFiles) {
      const copy = Buffer.from(bytes);
      copy[f.offset + Math.floor(f.data.length / 2)]! ^= 0x01;
      const part = manifest.files.find((m) => m.path === f.name)!.part;
      expect(verifyDossier(copy, [fingerprint]).problems, f.name).toEqual([
        expect.objectContaining({ kind: 'changed', part, path: f.name }),
      ]);
      if (f.name === 'recording-integrity.html') {
        const tampered = join(outDir, 'tampered.tar');
        writeFileSync(tampered, copy);
        const refused = await cli('dossier', 'verify', tampered, '--trust', fingerprint);
        expect(refused.status).toBe(1);
        expect(refused.stdout).toMatch(/CHANGED\s+part recording-integrity: recording-integrity\.html of part recording-integrity changed/);
      }
    }
    const untrusted = await cli('dossier', 'verify', file, '--trust', `SHA256:${'A'.repeat(43)}`);
    expect(untrusted.status).toBe(1);
    expect(untrusted.stdout).toMatch(/UNTRUSTED_KEY/);
    expect(existsSync(file)).toBe(true);
  });
});
