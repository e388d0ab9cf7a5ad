import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildDossier, verifyDossier, type DossierContext, type DossierPart } from '../../../src/dossier/index.js';
import { readTar, writeTar } from '../../../src/dossier/tar.js';
import { ChainSigner } from '../../../src/recording/index.js';

const IDENTITY = { name: 'unit-test-gw', regionCode: '44030500', profile: 'strict', version: '0.0.0' };

/** Pure parts: the bundle code sees only their output, so the store is not needed here. */
const PARTS: DossierPart[] = ['alpha', 'beta'].map((name) => ({
  name,
  title: `Part ${name}`,
  build: () =>
    Promise.resolve({
      json: { name, rows: [1, 2, 3] },
      html: `<p>${name} 检查</p>`,
      ...(name === 'beta' ? { pdf: Buffer.from('%PDF-1.4 beta') } : {}),
    }),
}));
const CTX = {
  from: new Date('2026-11-01T00:00:00Z'),
  to: new Date('2026-12-01T00:00:00Z'),
  now: new Date('2026-12-01T01:00:00Z'),
} as DossierContext;

async function bundle(signer = ChainSigner.generate()): Promise<{ bytes: Buffer; signer: ChainSigner }> {
  return { bytes: await buildDossier({ ctx: CTX, parts: PARTS, signer, identity: IDENTITY }), signer };
}

/** The archive with `edit` applied to its files, written again. */
function rewrite(bytes: Buffer, edit: (files: Array<{ name: string; data: Buffer }>) => Array<{ name: string; data: Buffer }>): Buffer {
  return writeTar(edit(readTar(bytes).map((f) => ({ name: f.name, data: Buffer.from(f.data) }))), 0);
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('ustar writer and reader', () => {
  it('round-trips names and bytes, any size, and GNU tar lists the same files', () => {
    const files = [
      { name: 'a.json', data: Buffer.from('{}') },
      { name: 'empty', data: Buffer.alloc(0) },
      { name: 'block.bin', data: Buffer.alloc(512, 7) },
      { name: 'big.bin', data: Buffer.alloc(5000, 9) },
    ];
    const tar = writeTar(files, 1_700_000_000);
    expect(tar.length % 512).toBe(0);
    const back = readTar(tar);
    expect(back.map((f) => [f.name, f.data.toString('hex')])).toEqual(files.map((f) => [f.name, f.data.toString('hex')]));
    expect(tar.subarray(back[3]!.offset, back[3]!.offset + 5000).equals(files[3]!.data)).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'dossier-tar-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'x.tar'), tar);
    expect(
      execFileSync('tar', ['-tf', join(dir, 'x.tar')], { encoding: 'utf8' })
        .trim()
        .split('\n'),
    ).toEqual(files.map((f) => f.name));
  });

  it('refuses a damaged header, a cut-short file and a name over 100 bytes', () => {
    const tar = writeTar([{ name: 'a', data: Buffer.from('hello') }], 0);
    const bad = Buffer.from(tar);
    bad[0] = 'b'.charCodeAt(0);
    expect(() => readTar(bad)).toThrow(/fails its checksum/);
    expect(() => readTar(tar.subarray(0, 514))).toThrow(/cut short/);
    expect(() => writeTar([{ name: 'n'.repeat(101), data: Buffer.alloc(1) }], 0)).toThrow(/1-100 bytes/);
  });
});

describe('dossier bundle and manifest check', () => {
  it('lists every file with its hash, verifies, and pins the signer', async () => {
    const { bytes, signer } = await bundle();
    const names = readTar(bytes).map((f) => f.name);
    expect(names).toEqual([
      'manifest.json',
      'manifest.sig',
      'signer.pem',
      'SHA256SUMS',
      'alpha.json',
      'alpha.html',
      'beta.json',
      'beta.html',
      'beta.pdf',
    ]);
    const ok = verifyDossier(bytes, [signer.fingerprint]);
    expect(ok).toMatchObject({ ok: true, problems: [], fingerprint: signer.fingerprint, pinned: true, parts: ['alpha', 'beta'], files: 7 });
    expect(ok.period).toEqual({ from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z' });
    expect(verifyDossier(bytes)).toMatchObject({ ok: true, pinned: false });
  });

  it('names the part of a changed, missing or extra file', async () => {
    const { bytes } = await bundle();
    const changed = rewrite(bytes, (fs) =>
      fs.map((f) => (f.name === 'beta.pdf' ? { ...f, data: Buffer.concat([f.data, Buffer.from('x')]) } : f)),
    );
    expect(verifyDossier(changed).problems).toEqual([expect.objectContaining({ kind: 'changed', part: 'beta', path: 'beta.pdf' })]);
    const missing = rewrite(bytes, (fs) => fs.filter((f) => f.name !== 'alpha.html'));
    expect(verifyDossier(missing).problems).toEqual([expect.objectContaining({ kind: 'missing', part: 'alpha', path: 'alpha.html' })]);
    const extra = rewrite(bytes, (fs) => [...fs, { name: 'gamma.html', data: Buffer.from('slipped in') }]);
    expect(verifyDossier(extra).problems).toEqual([expect.objectContaining({ kind: 'extra', path: 'gamma.html' })]);
  });

  it('refuses an edited manifest, a foreign signature and an unpinned signer', async () => {
    const { bytes, signer } = await bundle();
    const edited = rewrite(bytes, (fs) =>
      fs.map((f) =>
        f.name === 'manifest.json' ? { ...f, data: Buffer.from(f.data.toString().replace('unit-test-gw', 'other-gw-xx')) } : f,
      ),
    );
    expect(verifyDossier(edited).problems).toEqual([expect.objectContaining({ kind: 'bad_signature', path: 'manifest.sig' })]);
    const other = await bundle();
    const foreignSig = rewrite(bytes, (fs) =>
      fs.map((f) => (f.name === 'manifest.sig' ? readTar(other.bytes).find((g) => g.name === 'manifest.sig')! : f)),
    );
    expect(verifyDossier(foreignSig).problems.map((p) => p.kind)).toEqual(['bad_signature']);
    const untrusted = verifyDossier(other.bytes, [signer.fingerprint]);
    expect(untrusted.ok).toBe(false);
    expect(untrusted.problems).toEqual([expect.objectContaining({ kind: 'untrusted_key' })]);
    expect(untrusted.problems[0]!.message).toContain(other.signer.fingerprint);
    expect(verifyDossier(Buffer.from('not a tar at all')).problems.map((p) => p.kind)).toEqual(['malformed']);
    const noManifest = rewrite(bytes, (fs) => fs.filter((f) => f.name !== 'manifest.json'));
    expect(verifyDossier(noManifest).problems).toEqual([expect.objectContaining({ kind: 'missing' })]);
  });

  it('checks with tar, openssl and sha256sum alone, as the README shows', async () => {
    const { bytes, signer } = await bundle();
    const dir = mkdtempSync(join(tmpdir(), 'dossier-offline-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'dossier.tar'), bytes);
    const sh = (cmd: string) => execFileSync('sh', ['-c', cmd], { cwd: dir, encoding: 'utf8' });
    sh('mkdir d && tar -xf dossier.tar -C d');
    expect(sh('cd d && openssl pkeyutl -verify -pubin -inkey signer.pem -rawin -in manifest.json -sigfile manifest.sig')).toMatch(
      /Signature Verified Successfully/,
    );
    expect(sh('cd d && openssl pkey -pubin -in signer.pem -outform DER | openssl dgst -sha256 -binary | base64 | tr -d =').trim()).toBe(
      signer.fingerprint.replace(/^SHA256:/, ''),
    );
    const sumsHash = sh('cd d && sha256sum SHA256SUMS').split(' ')[0];
    expect(readFileSync(join(dir, 'd', 'manifest.json'), 'utf8')).toContain(`"sha256": "${sumsHash}"`);
    expect(sh('cd d && sha256sum -c SHA256SUMS')).toMatch(/beta\.pdf: OK/);
    sh('cd d && printf x >> alpha.json');
    expect(sh('cd d && sha256sum -c SHA256SUMS 2>&1; echo "exit $?"')).toMatch(/alpha\.json: FAILED[\s\S]*exit 1/);
  });
});
