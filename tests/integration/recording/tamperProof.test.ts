import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { entryHash, sha256File } from '../../../src/recording/index.js';
import { addCamera, waitForUp } from '../../helpers/cameraSteps.js';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';
import { recordingList } from '../../helpers/recordings.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';
import { DataDirCopy } from './tamper.js';

const CHECKPOINT_SECONDS = 5;
/** verify requires a checkpoint over every entry older than two intervals. */
const GRACE_MS = 2 * CHECKPOINT_SECONDS * 1000;

interface VerifyJson {
  ok: boolean;
  findings: Array<{ kind: string; cameraId: string; seq: number | null; message: string }>;
  keys: { dataDir: string[]; trusted: string[]; pinned: boolean };
  witnessed: number | null;
}

/**
 * A data directory an attacker can write: each tampering of the real recording of a real
 * camera, made on a copy with plain SQLite edits and file removals, must make the real
 * `psvgw verify` exit 1 and name what was done.
 */
describe('psvgw verify against a data-directory attacker', () => {
  let gw: GatewayProcess;
  let witnessDir: string;
  let cameraId: string;
  let fingerprint: string;
  const copies: DataDirCopy[] = [];
  const copy = () => {
    const c = new DataDirCopy(gw.dataDir);
    copies.push(c);
    return c;
  };

  beforeAll(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    requireTool('ffprobe', FFMPEG_INSTALL_HINT);
    requireTool('openssl', 'install it: apt-get install openssl');
    witnessDir = mkdtempSync(join(tmpdir(), 'psvgw-witness-'));
    const cam = await TestCamera.start({ width: 320, height: 180 });
    gw = await GatewayProcess.start({
      configYaml: `recording:\n  segmentSeconds: 2\n  checkpointSeconds: ${CHECKPOINT_SECONDS}\n  witnessDir: ${witnessDir}`,
    });
    cameraId = (await addCamera(gw, cam.url, 'Evidence camera')).id;
    await waitForUp(gw, cameraId, 1, 30_000);
    await gw.waitFor('6 indexed segments', async () => (await recordingList(gw, cameraId)).segments.length >= 6, 90_000);
    fingerprint = /recording signing key (SHA256:[A-Za-z0-9+/]{43})/.exec(gw.logs.join('\n'))?.[1] ?? '';
    expect(await gw.stop('SIGTERM')).toBe(0);
    await stopAllTestCameras();
    // Old enough that every entry must be covered by a checkpoint.
    const newest = Math.max(...(await copy().entries(cameraId)).map((e) => e.endMs));
    await sleep(Math.max(0, newest + GRACE_MS + 1000 - Date.now()));
  }, 150_000);

  afterEach(() => {
    for (const c of copies.splice(0)) c.cleanup();
  });

  afterAll(async () => {
    await stopAllGateways();
    await stopAllTestCameras();
    gw?.cleanup();
    if (witnessDir) rmSync(witnessDir, { recursive: true, force: true });
  });

  it('logs the key fingerprint at start, as openssl computes it; verify shows it and warns while it is not pinned', async () => {
    const openssl = execFileSync('sh', [
      '-c',
      `openssl pkey -in '${join(gw.dataDir, 'data', 'keys', 'recording-ed25519.pem')}' -pubout -outform DER | openssl dgst -sha256 -binary | base64 | tr -d =`,
    ])
      .toString()
      .trim();
    expect(fingerprint).toBe(`SHA256:${openssl}`);
    const c = copy();
    const text = await c.verify();
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`signing key: ${fingerprint}`);
    expect(text.stdout).toMatch(/WARNING: the key was taken from the data directory and is not pinned/);
    const json = JSON.parse((await c.verify(['--json'])).stdout) as VerifyJson;
    expect(json.keys).toEqual({ dataDir: [fingerprint], trusted: [fingerprint], pinned: false });
  });

  it('untouched, pinned and compared with the witness: exit 0', async () => {
    const res = await copy().verify(['--json', '--trust', fingerprint, '--witness', witnessDir]);
    const report = JSON.parse(res.stdout) as VerifyJson;
    expect(report.findings).toEqual([]);
    expect(res.code).toBe(0);
    expect(report.keys.pinned).toBe(true);
    expect(report.witnessed).toBeGreaterThanOrEqual(2);
  });

  it('psvgw keys rotate: the old key signs the hand-over, so the old pin still verifies; another pin does not', async () => {
    const c = copy();
    const { code, stdout } = await c.cli(['keys', 'rotate']);
    expect(code).toBe(0);
    const [, old, next] = /signing key rotated: (\S+) -> (\S+)/.exec(stdout) ?? [];
    expect(old).toBe(fingerprint);
    expect(next).not.toBe(fingerprint);
    const res = await c.verify(['--json', '--trust', fingerprint]);
    const report = JSON.parse(res.stdout) as VerifyJson;
    expect(report.findings).toEqual([]);
    expect(report.keys).toEqual({ dataDir: [next], trusted: [fingerprint, next!].sort(), pinned: true });
    expect(res.code).toBe(0);
    expect((await c.verify(['--trust', next!])).code).toBe(1);
  });

  it('a segment row marked deleted without a chain entry, its file removed: deleted_unrecorded and missing', async () => {
    const c = copy();
    const victim = (await c.entries(cameraId))[2]!;
    c.db((db) =>
      db
        .prepare('UPDATE recording_entries SET deleted_at = ? WHERE camera_id = ? AND seq = ?')
        .run(new Date().toISOString(), cameraId, victim.seq),
    );
    rmSync(join(c.recordings, victim.path));
    const res = await c.verify(['--json', '--trust', fingerprint]);
    expect(res.code).toBe(1);
    const kinds = (JSON.parse(res.stdout) as VerifyJson).findings.filter((f) => f.seq === victim.seq).map((f) => f.kind);
    expect(kinds.sort()).toEqual(['deleted_unrecorded', 'missing']);
    expect((await c.verify()).stdout).toMatch(new RegExp(`DELETED_UNRECORDED\\s+${cameraId}\\s+entry ${victim.seq}`));
  });

  it('checkpoints deleted and the plain SHA-256 chain rebuilt without a segment: checkpoint_missing', async () => {
    const c = copy();
    c.db((db) => db.prepare('DELETE FROM recording_checkpoints').run());
    await c.dropSegment(cameraId, 3);
    const res = await c.verify();
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(new RegExp(`CHECKPOINT_MISSING\\s+${cameraId}\\s+entry 1: no signed checkpoint at all covers`));
  });

  it('the chain rebuilt and re-signed with a new key, the old key pinned: untrusted_key', async () => {
    const c = copy();
    await c.dropSegment(cameraId, 3);
    const forged = await c.resignWithNewKey(cameraId);
    const res = await c.verify(['--trust', fingerprint]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain(`UNTRUSTED_KEY      *: the data directory's signing key ${forged} is not pinned`);
    expect(res.stdout).toMatch(
      new RegExp(`UNTRUSTED_KEY\\s+${cameraId}\\s+entry \\d+: checkpoint of .* is signed by ${forged.replace(/[+/]/g, '\\$&')}`),
    );
  });

  it('the chain head after the last remaining checkpoint rewritten (newest checkpoint deleted): head_unsigned', async () => {
    const c = copy();
    const checkpoints = c.db(
      (db) => db.prepare('SELECT id, seq FROM recording_checkpoints ORDER BY id').all() as Array<{ id: number; seq: number }>,
    );
    expect(checkpoints.length).toBeGreaterThanOrEqual(2);
    c.db((db) => db.prepare('DELETE FROM recording_checkpoints WHERE id = ?').run(checkpoints.at(-1)!.id));
    // The head segment's file gets other content; its entry is rehashed to match.
    const entries = await c.entries(cameraId);
    const head = entries.at(-1)!;
    appendFileSync(join(c.recordings, head.path), Buffer.alloc(188, 0x47));
    const sha256 = await sha256File(join(c.recordings, head.path));
    const rewritten = { ...head, sha256, bytes: head.bytes + 188 };
    await c.rewriteChain(cameraId, [...entries.slice(0, -1), { ...rewritten, entryHash: entryHash(rewritten) }]);
    const res = await c.verify(['--trust', fingerprint]);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(
      new RegExp(
        `HEAD_UNSIGNED\\s+${cameraId}\\s+entry ${checkpoints.at(-2)!.seq + 1}: entries ${checkpoints.at(-2)!.seq + 1}…${head.seq}`,
      ),
    );
  });

  it('the whole data directory replaced by a consistent forgery: passes alone, the witness names the divergence', async () => {
    const c = copy();
    const dropped = await c.dropSegment(cameraId, 3);
    await c.resignWithNewKey(cameraId);
    const alone = await c.verify(['--json']);
    expect((JSON.parse(alone.stdout) as VerifyJson).findings).toEqual([]);
    expect(alone.code).toBe(0);

    const res = await c.verify(['--witness', witnessDir]);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(new RegExp(`WITNESS_DIVERGENCE\\s+${cameraId}\\s+entry \\d+.*: first divergence from the witness: `));
    expect(dropped.seq).toBe(3);
  });
});
