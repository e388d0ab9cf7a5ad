/**
 * Builds the signed bundle (a ustar archive: the parts, manifest.json, manifest.sig,
 * signer.pem, SHA256SUMS), writes it atomically, and checks one offline.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { GatewayError } from '../errors.js';
import type { ChainSigner } from '../recording/index.js';
import {
  CHECKSUMS_FILE,
  DOSSIER_FORMAT,
  MANIFEST_FILE,
  PUBLIC_KEY_FILE,
  SIGNATURE_FILE,
  checkDossier,
  dossierFailure,
  manifestBytes,
  manifestEntry,
  type DossierIdentity,
  type DossierVerification,
  type Manifest,
} from './manifest.js';
import type { DossierContext, DossierPart } from './parts.js';
import { readTar, writeTar, type TarFile } from './tar.js';

export interface BuildDossierInput {
  ctx: DossierContext;
  parts: readonly DossierPart[];
  signer: ChainSigner;
  identity: DossierIdentity;
  /** One line per part as it starts and ends: a long period takes a while. */
  progress?: (line: string) => void;
}

/** The files of one part: `<name>.json`, `<name>.html` and, where rendered, `<name>.pdf`. */
function partFiles(part: DossierPart, out: { json: unknown; html: string; pdf?: Buffer }): TarFile[] {
  const files: TarFile[] = [
    { name: `${part.name}.json`, data: Buffer.from(`${JSON.stringify(out.json, null, 2)}\n`) },
    { name: `${part.name}.html`, data: Buffer.from(out.html) },
  ];
  if (out.pdf !== undefined) files.push({ name: `${part.name}.pdf`, data: out.pdf });
  return files;
}

/** The bundle's bytes: every part built in order, then the manifest over them, signed. */
export async function buildDossier(input: BuildDossierInput): Promise<Buffer> {
  const { ctx, signer } = input;
  const files: TarFile[] = [];
  const entries = [];
  for (const [i, part] of input.parts.entries()) {
    const started = Date.now();
    input.progress?.(`dossier: part ${i + 1}/${input.parts.length} ${part.name}: building`);
    const built = partFiles(part, await part.build(ctx));
    files.push(...built);
    entries.push(...built.map((f) => manifestEntry(f.name, part.name, f.data)));
    input.progress?.(`dossier: part ${i + 1}/${input.parts.length} ${part.name}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  const pem = Buffer.from(signer.publicPem());
  entries.push(manifestEntry(PUBLIC_KEY_FILE, 'signer', pem));
  // `sha256sum -c SHA256SUMS` checks every part without the gateway; the manifest covers this file too.
  const sums = Buffer.from(entries.map((e) => `${e.sha256}  ${e.path}\n`).join(''));
  entries.push(manifestEntry(CHECKSUMS_FILE, 'checksums', sums));
  const manifest: Manifest = {
    format: DOSSIER_FORMAT,
    createdAt: ctx.now.toISOString(),
    period: { from: ctx.from.toISOString(), to: ctx.to.toISOString() },
    gateway: input.identity,
    signer: { fingerprint: signer.fingerprint, publicKeyPem: pem.toString('utf8') },
    parts: input.parts.map((p) => ({ name: p.name, title: p.title })),
    files: entries,
  };
  const bytes = manifestBytes(manifest);
  // Raw 64-byte Ed25519 signature, as `openssl pkeyutl -verify -rawin -sigfile` reads it.
  const signature = Buffer.from(signer.signBytes(bytes), 'base64');
  return writeTar(
    [
      { name: MANIFEST_FILE, data: bytes },
      { name: SIGNATURE_FILE, data: signature },
      { name: PUBLIC_KEY_FILE, data: pem },
      { name: CHECKSUMS_FILE, data: sums },
      ...files,
    ],
    Math.floor(ctx.now.getTime() / 1000),
  );
}

/** Writes next to `path` and renames: a reader never sees half a bundle under its name. */
export function writeFileAtomic(path: string, data: Buffer): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.partial`);
  try {
    writeFileSync(tmp, data, { mode: 0o644 });
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Checks a bundle's bytes offline (see checkDossier); an unreadable archive is one `malformed` problem. */
export function verifyDossier(archive: Buffer, trust: readonly string[] = []): DossierVerification {
  let files: TarFile[];
  try {
    files = readTar(archive);
  } catch (err) {
    return dossierFailure('malformed', (err as Error).message, trust);
  }
  return checkDossier(files, trust);
}

export function verifyDossierFile(path: string, trust: readonly string[] = []): DossierVerification {
  let archive: Buffer;
  try {
    archive = readFileSync(path);
  } catch (err) {
    throw new GatewayError('VALIDATION_FAILED', `cannot read the dossier ${path}: ${(err as Error).message}`, {
      hint: 'Name the .tar that psvgw dossier or GET /api/v1/dossier wrote.',
      cause: err,
    });
  }
  return verifyDossier(archive, trust);
}
