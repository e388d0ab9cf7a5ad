import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig, type GatewayConfig } from '../config/index.js';
import {
  gatewayKeyRing,
  parseFingerprint,
  parseTime,
  readWitnesses,
  recordingsDir,
  rotateSigningKey,
  verifyRecordings,
  type VerifyReport,
} from '../recording/index.js';
import { openStore, type Store } from '../store/index.js';
import { printJson } from './output.js';
import { ProgressBar } from './progressBar.js';

// Shared with `psvgw audit verify` and `psvgw dossier`; it lives with the recording keys.
export { gatewayKeyRing };

interface VerifyFlags {
  config?: string;
  camera?: string;
  from?: string;
  to?: string;
  json?: boolean;
  trust: string[];
  witness?: string;
}

export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description('prove that no recorded segment was altered, removed or slipped in: checks hash chains, signed checkpoints and every file')
    .option('-c, --config <file>', 'YAML config file of the gateway (data directory, store, recordings directory)')
    .option('--camera <id>', 'only this camera')
    .option('--from <time>', 'only files from this time (ISO-8601 or ms since 1970); the chain is always checked whole')
    .option('--to <time>', 'only files up to this time')
    .option('--trust <fingerprint>', 'trust only this signing key (repeatable; adds to recording.trustedKeys)', collect, [])
    .option('--witness <file|dir>', 'compare with the witness copies of the checkpoints (recording.witnessDir, or one of its files)')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `
Reads the data directory of the config (or PSVGW_DATA_DIR) and may run while the gateway records.
Each finding names the camera, the chain entry and the file:
  modified        the file's SHA-256 differs from the one recorded when it was written
  missing         an indexed segment's file is gone (segments past retention are deleted
                  by the sweeper, which records each deletion in the chain: those are not missing)
  unexpected      a file in the recordings that the index does not know
  reordered       files swapped, or index entries out of time order
  deleted_unrecorded  a segment marked deleted in the index without a deletion entry in the chain
  deletion_invalid / deletion_unlawful
                  a deletion entry naming no such segment, or made inside the segment's retention
  checkpoint_missing / head_unsigned
                  chain entries older than two checkpoint intervals that no signed checkpoint covers
  checkpoint_chain_broken   a checkpoint that does not commit to the one before it
  untrusted_key   signed by a key that is not pinned (--trust, recording.trustedKeys)
  witness_divergence        the first place the data directory differs from the witness copy
  chain_broken / index_tampered / truncated / checkpoint_invalid
                  the index itself was edited, cut short or re-signed
Without a pinned key the key is taken from the data directory, which proves nothing against
someone who can rewrite it: pin the fingerprint printed here, and keep a witness directory.
Segments listed as RECOVERED are not findings: the gateway died while writing them and
indexed them when it started again (the mark is part of the hashed chain entry).
Exit status: 0 all verified, 1 any finding (or an error).

Example:
  psvgw verify --config /etc/psvgw/gateway.yaml --trust SHA256:… --witness /mnt/witness --from 2026-12-01T00:00:00Z`,
    )
    .action(async (flags: VerifyFlags) => {
      process.exitCode = await runVerify(flags);
    });
  program
    .command('keys')
    .description('the recording signing key')
    .command('rotate')
    .description('replace the signing key; the old key signs a statement naming the new one, so a pin on the old key carries over')
    .option('-c, --config <file>', 'YAML config file of the gateway')
    .addHelpText('after', '\nStop the gateway first; it loads the key when it starts. Prints the old and the new fingerprint.')
    .action(async (flags: { config?: string }) => {
      const { config, dataDir, store } = await openRecordingStore(flags.config);
      try {
        const r = await rotateSigningKey(store, { dataDir, keyFile: config.recording.signingKeyFile }, new Date().toISOString());
        process.stdout.write(`signing key rotated: ${r.old} -> ${r.next}\n`);
      } finally {
        await store.close();
      }
    });
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export async function openRecordingStore(file: string | undefined): Promise<{ config: GatewayConfig; dataDir: string; store: Store }> {
  const config = loadConfig(file === undefined ? {} : { file });
  const dataDir = resolve(config.dataDir);
  const store = await openStore({
    driver: config.store.driver,
    sqlitePath: config.store.sqlitePath ?? join(dataDir, 'psvgw.db'),
    postgresUrl: config.store.postgresUrl,
  });
  return { config, dataDir, store };
}

async function runVerify(flags: VerifyFlags): Promise<number> {
  const pins = flags.trust.map((t) => parseFingerprint(t, '--trust'));
  const { config, dataDir, store } = await openRecordingStore(flags.config);
  const bar = flags.json ? null : new ProgressBar('verifying');
  try {
    const witness = flags.witness === undefined ? undefined : await readWitnesses(resolve(flags.witness));
    const { keys, expectedPublicPem, fileKey } = await gatewayKeyRing(config, dataDir, store, pins);
    const report = await verifyRecordings({
      store,
      dir: recordingsDir({ ...config, dataDir }),
      keys,
      keyFilePublicPem: fileKey,
      expectedPublicPem,
      checkpointIntervalMs: config.recording.checkpointSeconds * 1000,
      ...(witness === undefined ? {} : { witness }),
      ...(flags.camera === undefined ? {} : { cameraId: flags.camera }),
      ...(flags.from === undefined ? {} : { fromMs: parseTime(flags.from, '--from') }),
      ...(flags.to === undefined ? {} : { toMs: parseTime(flags.to, '--to') }),
      onProgress: (done, total) => bar?.update(done, total),
    });
    bar?.finish();
    if (flags.json) printJson(report);
    else printReport(report);
    return report.ok ? 0 : 1;
  } finally {
    await store.close();
  }
}

function printReport(r: VerifyReport): void {
  const keys = r.keys.dataDir.length > 0 ? r.keys.dataDir.join(', ') : '(none recorded)';
  process.stdout.write(`signing key: ${keys}${r.keys.pinned ? ` (pinned: ${r.keys.trusted.join(', ')})` : ''}\n`);
  if (!r.keys.pinned) {
    process.stdout.write(
      'WARNING: the key was taken from the data directory and is not pinned: whoever can write it could re-sign everything. Pin it with --trust or recording.trustedKeys.\n',
    );
  }
  for (const f of r.findings) {
    const where = [f.cameraId, f.seq === null ? null : `entry ${f.seq}`, f.path].filter((x) => x !== null).join('  ');
    process.stdout.write(`${f.kind.toUpperCase().padEnd(18)} ${where}: ${f.message}\n`);
  }
  for (const s of r.recovered) {
    process.stdout.write(
      `${'RECOVERED'.padEnd(18)} ${s.cameraId}  entry ${s.seq}  ${s.path}: indexed at start-up after the gateway died writing it\n`,
    );
  }
  const recovered = r.recovered.length > 0 ? `, ${r.recovered.length} recovered after an interrupted write` : '';
  const unjudged = r.deletionsWithoutRetention > 0 ? ` (${r.deletionsWithoutRetention} without a recorded retention, not judged)` : '';
  const witnessed = r.witnessed === null ? '' : `, ${r.witnessed} witnessed checkpoint(s) compared`;
  const summary = `${r.cameras} camera(s), ${r.segments} segment(s), ${(r.bytes / 1e6).toFixed(1)} MB checked, ${r.deletions} deletion(s)${unjudged}${witnessed}${recovered}`;
  process.stdout.write(r.ok ? `OK: ${summary}, all verified\n` : `FAILED: ${r.findings.length} finding(s); ${summary}\n`);
}
