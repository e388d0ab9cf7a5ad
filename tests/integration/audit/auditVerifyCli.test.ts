import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChainSigner, PUBLIC_KEY_SETTING, signAuditHead } from '../../../src/recording/index.js';
import { SqliteStore } from '../../../src/store/index.js';
import { runCli } from '../../helpers/cli.js';

/**
 * `psvgw audit verify` and `audit export` (the built CLI) on a real SQLite store file
 * written through the store's own append, then edited behind its back with better-sqlite3.
 */
describe('psvgw audit verify / export', () => {
  let dataDir: string;
  let ids: number[];
  let fingerprint: string;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'psvgw-audit-'));
    const store = new SqliteStore(join(dataDir, 'psvgw.db'));
    await store.migrate();
    try {
      for (let n = 1; n <= 5; n++) {
        await store.audit.append({
          at: `2026-12-01T10:0${n}:00.000Z`,
          actor: n % 2 ? 'admin' : 'li.wei',
          action: n === 3 ? 'auth.login' : 'camera.update',
          cameraId: n === 3 ? null : '34020000001320000001',
          outcome: n === 4 ? 'refused' : 'ok',
          details: { n, note: 'comma, "quote"' },
        });
      }
      ids = (await store.audit.chain()).map((e) => e.id ?? 0);
      // The gateway's key in the data dir, as RecordingSystem makes it, signs the head.
      const signer = ChainSigner.loadOrCreate(dataDir);
      await store.settings.set(PUBLIC_KEY_SETTING, signer.publicPem());
      fingerprint = signer.fingerprint;
      expect(await signAuditHead(store, signer, '2026-12-01T10:06:00.000Z')).toMatchObject({ seq: 5, cameraId: 'audit' });
      expect(await signAuditHead(store, signer, '2026-12-01T10:07:00.000Z')).toBeUndefined();
    } finally {
      await store.close();
    }
  });
  afterEach(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  const cli = (...args: string[]) => runCli(['audit', ...args], { env: { PSVGW_DATA_DIR: dataDir } });
  const tamper = (sql: string) => {
    const db = new Database(join(dataDir, 'psvgw.db'));
    try {
      db.exec(sql);
    } finally {
      db.close();
    }
  };

  it('verifies an untouched chain (exit 0) and reports its head as JSON', async () => {
    const text = await cli('verify');
    expect(text.stderr).toBe('');
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/audit chain verified: 5 entries, head seq 5 [0-9a-f]{64}, signed up to seq 5/);
    const json = await cli('verify', '--json', '--trust', fingerprint);
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: true,
      entries: 5,
      head: { seq: 5 },
      checkpoints: 1,
      trustedKeys: [fingerprint],
      problems: [],
    });
  });

  it('fails naming the row whose content was edited', async () => {
    tamper(`UPDATE audit_log SET actor = 'someone.else' WHERE id = ${ids[2]}`);
    const r = await cli('verify');
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`first: changed entry seq 3 (id ${ids[2]}) was changed after it was written`);
  });

  it('fails naming the gap a deleted row leaves', async () => {
    tamper(`DELETE FROM audit_log WHERE id = ${ids[1]}`);
    const r = await cli('verify', '--json');
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).problems[0]).toMatchObject({ kind: 'missing', seq: 3, id: ids[2] });
    expect((await cli('verify')).stdout).toContain(`first: missing entry seq 2 is missing (deleted) before entry seq 3 (id ${ids[2]})`);
  });

  it('fails naming rows stored out of order', async () => {
    const [a, b] = [ids[1] ?? 0, ids[2] ?? 0];
    tamper(`UPDATE audit_log SET id = -id WHERE id IN (${a}, ${b});
            UPDATE audit_log SET id = ${b} WHERE id = ${-a};
            UPDATE audit_log SET id = ${a} WHERE id = ${-b};`);
    const r = await cli('verify');
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`first: reordered entry seq 3 (id ${a}) is stored ahead of seq 2`);
  });

  it('fails naming the signed entries that a deleted newest row took away', async () => {
    tamper(`DELETE FROM audit_log WHERE id = ${ids[4]}`);
    const r = await cli('verify');
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(
      'first: truncated entries 5…5 were signed (checkpoint of seq 5 signed 2026-12-01T10:06:00.000Z) but are gone',
    );
  });

  it('fails when entries no checkpoint signs are older than two checkpoint intervals', async () => {
    tamper(`INSERT INTO audit_log (at, actor, action, camera_id, outcome, details, seq, prev_hash, entry_hash)
            SELECT '2026-12-01T11:00:00.000Z', actor, action, camera_id, outcome, details, 6, entry_hash, 'x' FROM audit_log WHERE seq = 5`);
    const r = await cli('verify', '--json');
    expect(r.status).toBe(1);
    const kinds = (JSON.parse(r.stdout) as { problems: Array<{ kind: string; seq: number }> }).problems.map((p) => [p.kind, p.seq]);
    expect(kinds).toContainEqual(['head_unsigned', 6]);
  });

  it('refuses checkpoints signed by a key other than the pinned one', async () => {
    const other = ChainSigner.loadOrCreate(join(dataDir, 'other-key'));
    const r = await cli('verify', '--trust', other.fingerprint);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`first: untrusted_key checkpoint of seq 5 signed 2026-12-01T10:06:00.000Z: signed by ${fingerprint}`);
  });

  it('exports a period as CSV or JSON with the chain fields, to stdout or a file', async () => {
    const csv = await cli('export', '--from', '2026-12-01T10:02:00Z', '--to', '2026-12-01T10:04:00Z', '--format', 'csv');
    expect(csv.status).toBe(0);
    const lines = csv.stdout
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n');
    expect(lines[0]).toBe('seq,id,at,actor,action,camera_id,outcome,details,prev_hash,entry_hash');
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['2', '3', '4']);
    expect(lines[2]).toContain('"{""n"":3,""note"":""comma, \\""quote\\""""}"');
    const out = join(dataDir, 'audit.json');
    const json = await cli('export', '--format', 'json', '-o', out);
    expect(json.status).toBe(0);
    const entries = JSON.parse(readFileSync(out, 'utf8')) as Array<{ seq: number; entryHash: string; prevHash: string }>;
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(entries[1]?.prevHash).toBe(entries[0]?.entryHash);
  });

  it('refuses an unknown export format, saying which ones exist', async () => {
    const r = await cli('export', '--format', 'xml');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('--format "xml" is not known');
    expect(r.stderr).toContain('Use one of csv, json.');
  });
});
