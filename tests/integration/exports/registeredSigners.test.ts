import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDossier, type DossierContext, type DossierPart } from '../../../src/dossier/index.js';
import { MANIFEST_FORMAT, manifestText, signManifest, type UnsignedManifest } from '../../../src/exports/index.js';
import { ChainSigner, publicKeyBase64, registerNodeKey } from '../../../src/recording/index.js';
import { SqliteStore } from '../../../src/store/index.js';
import { runCli } from '../../helpers/cli.js';

/** A clip and its manifest signed by `signer`, in `dir`. */
function signedExport(dir: string, name: string, signer: ChainSigner): { clip: string; manifest: string } {
  const bytes = Buffer.from(`the clip ${name}`);
  const clip = join(dir, `${name}.mp4`);
  writeFileSync(clip, bytes);
  const unsigned: UnsignedManifest = {
    format: MANIFEST_FORMAT,
    clip: { file: `${name}.mp4`, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') },
    request: { id: 'r1', kind: 'export', staff: [], purpose: 'case', destination: 'file', approvedBy: 'ap', approvedAt: 'now' },
    cameraId: 'c1',
    range: { from: '2026-01-01T00:00:00.000Z', to: '2026-01-01T00:00:10.000Z' },
    segments: [],
    exportedAt: '2026-01-02T00:00:00.000Z',
    exportedBy: 'officer',
    watermark: 'w',
    signer: { fingerprint: signer.fingerprint, publicKey: publicKeyBase64(signer.publicKey) },
  };
  const manifest = join(dir, `${name}.manifest.json`);
  writeFileSync(manifest, manifestText(signManifest(unsigned, signer)));
  return { clip, manifest };
}

/**
 * `psvgw export verify --registered` and `psvgw dossier verify --registered`: the signer must
 * be a key in the store's registry of the nodes' keys.
 */
describe('export and dossier verify --registered', () => {
  let root: string;
  const env = () => ({ PSVGW_DATA_DIR: join(root, 'data') });
  const node = ChainSigner.generate();

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'psvgw-export-keys-'));
    mkdirSync(join(root, 'data'), { mode: 0o700 });
    const store = new SqliteStore(join(root, 'data', 'psvgw.db'));
    await store.migrate();
    await registerNodeKey(store, 'gw-1', node, { singleNode: false, at: new Date().toISOString() });
    await store.close();
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("accepts an export signed by a node's registered key", async () => {
    const { clip, manifest } = signedExport(root, 'registered', node);
    const res = await runCli(['export', 'verify', clip, manifest, '--registered'], { env: env() });
    expect(res.stdout + res.stderr).not.toMatch(/untrusted/i);
    expect(res.status).toBe(0);
  });

  it('reports an export signed by a key not in the registry as untrusted_key, naming the key', async () => {
    const other = ChainSigner.generate();
    const { clip, manifest } = signedExport(root, 'unregistered', other);
    const res = await runCli(['export', 'verify', clip, manifest, '--registered', '--json'], { env: env() });
    expect(res.status).toBe(1);
    const report = JSON.parse(res.stdout) as { findings: Array<{ kind: string; message: string }> };
    expect(report.findings.map((f) => f.kind)).toEqual(['untrusted_key']);
    expect(report.findings[0]?.message).toContain(
      `signed by ${other.fingerprint}, which is not among the trusted keys (${node.fingerprint})`,
    );
  });

  it('a dossier signed by a registered key verifies; one signed by another key is untrusted_key', async () => {
    const part: DossierPart = {
      name: 'alpha',
      title: 'Part alpha',
      build: () => Promise.resolve({ json: { rows: [1] }, html: '<p>alpha</p>' }),
    };
    const ctx = { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-12-01T00:00:00Z'), now: new Date() } as DossierContext;
    const identity = { name: 'gw-1', regionCode: '44030500', profile: 'strict', version: '0.0.0' };
    const other = ChainSigner.generate();
    for (const [name, signer, status] of [
      ['registered', node, 0],
      ['unregistered', other, 1],
    ] as const) {
      const file = join(root, `${name}.tar`);
      writeFileSync(file, await buildDossier({ ctx, parts: [part], signer, identity }));
      const res = await runCli(['dossier', 'verify', file, '--registered'], { env: env() });
      expect(res.status, `${name}: ${res.stdout}${res.stderr}`).toBe(status);
      if (status === 1) expect(res.stdout).toMatch(/untrusted_key/i);
    }
  });
});
