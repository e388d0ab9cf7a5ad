import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { SegmentRelay } from '../api/index.js';
import { deriveKey, KEY_PURPOSES } from '../cameras/index.js';
import { nodeNameOf } from '../cluster/index.js';
import { loadConfig, type GatewayConfig } from '../config/index.js';
import type { ChainEntry } from '../domain/index.js';
import { GatewayError } from '../errors.js';
import {
  gatewayKeyRing,
  parseFingerprint,
  parseTime,
  readWitnesses,
  recordingsDir,
  rotateSigningKey,
  sha256Stream,
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
  unreachable     cluster mode: the segment is on a node that is not alive (or does not
                  answer): not missing, not checked; verify again once the node is back
  deletion_invalid / deletion_unlawful
                  a deletion entry naming no such segment, or made inside the segment's retention
  checkpoint_missing / head_unsigned
                  chain entries older than two checkpoint intervals that no signed checkpoint covers
  checkpoint_chain_broken   a checkpoint that does not commit to the one before it
  untrusted_key   signed by a key that is not pinned (--trust, recording.trustedKeys)
  unregistered_key / key_mismatch
                  an entry or checkpoint naming a key that is not in the registry of the nodes'
                  keys (psvgw keys list), or one registered to another node than it names
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
  const keys = program.command('keys').description("the recording signing keys: this node's key and the registry of the nodes' keys");
  keys
    .command('rotate')
    .description('replace the signing key; the old key signs a statement naming the new one, so a pin on the old key carries over')
    .option('-c, --config <file>', 'YAML config file of the gateway')
    .addHelpText(
      'after',
      '\nStop the gateway first; it loads the key when it starts. The old key is retired in the registry and the new one\nregistered to the node (PSVGW_NODE_NAME). Prints the old and the new fingerprint.',
    )
    .action(async (flags: { config?: string }) => {
      const { config, dataDir, store } = await openRecordingStore(flags.config);
      try {
        const loc = { dataDir, keyFile: config.recording.signingKeyFile, node: nodeNameOf(config.cluster.nodeName) };
        const r = await rotateSigningKey(store, loc, new Date().toISOString());
        process.stdout.write(`signing key rotated: ${r.old} -> ${r.next}\n`);
      } finally {
        await store.close();
      }
    });
  keys
    .command('list')
    .description("the registry of the nodes' signing keys: fingerprint, node, registered, retired")
    .option('-c, --config <file>', 'YAML config file of the gateway')
    .option('--json', 'print the keys as JSON')
    .action(async (flags: { config?: string; json?: boolean }) => {
      const { store } = await openRecordingStore(flags.config);
      try {
        const rows = await store.recordings.signingKeys();
        if (flags.json) printJson({ items: rows.map(({ publicKeyPem: _pem, ...row }) => row) });
        else
          for (const k of rows)
            process.stdout.write(
              `${k.fingerprint}  ${k.node}  registered ${k.createdAt}${k.retiredAt === null ? '' : `  retired ${k.retiredAt}`}\n`,
            );
      } finally {
        await store.close();
      }
    });
  keys
    .command('retire')
    .argument('<fingerprint>', 'the key to retire, as `psvgw keys list` prints it')
    .description('retire a registered key: its node may then start with a new key; what it signed before still verifies')
    .option('-c, --config <file>', 'YAML config file of the gateway')
    .addHelpText(
      'after',
      '\nFor a node whose key file was lost or replaced on purpose: a node whose name is registered with another\nkey in service refuses to start. Stop the node first. A retired key is refused at start.',
    )
    .action(async (fingerprint: string, flags: { config?: string }) => {
      const fp = parseFingerprint(fingerprint, 'fingerprint');
      const { store } = await openRecordingStore(flags.config);
      try {
        if (!(await store.recordings.retireKey(fp, new Date().toISOString()))) {
          throw new GatewayError('VALIDATION_FAILED', `no registered signing key ${fp} in service`, {
            hint: 'List the keys with `psvgw keys list`; a retired key stays retired.',
          });
        }
        process.stdout.write(`signing key retired: ${fp}\n`);
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
      // A gateway may be recording beside this run; its index write can wait out a lock (5 s).
      recentFileGraceMs: 8_000,
      ...(await heldElsewhere(config, store)),
    });
    bar?.finish();
    if (flags.json) printJson(report);
    else printReport(report);
    return report.ok ? 0 : 1;
  } finally {
    await store.close();
  }
}

/**
 * Cluster mode (PostgreSQL store): segments other nodes hold are hashed through them, with
 * the relay token of the shared PSVGW_SECRET_KEY; without that key they are unreachable here.
 */
async function heldElsewhere(config: GatewayConfig, store: Store): Promise<Pick<Parameters<typeof verifyRecordings>[0], 'held'>> {
  if (config.store.driver !== 'postgres') return {};
  const self = nodeNameOf(config.cluster.nodeName);
  const nodes = await store.cluster.nodes(config.cluster.leaseSeconds * 1000);
  const secret = config.secrets.secretKey;
  const relay =
    secret === undefined ? null : new SegmentRelay(deriveKey(secret, KEY_PURPOSES.playbackToken), { self, nodes: async () => nodes });
  const hash = async (entry: ChainEntry, apiUrl: string) => {
    if (relay === null) throw new Error('PSVGW_SECRET_KEY, which the nodes share, is not set for this run');
    const { body } = await relay.openSegment(entry, { node: entry.node ?? '', apiUrl });
    let bytes = 0;
    const sha256 = await sha256Stream(body as AsyncIterable<Buffer>, (n) => (bytes += n));
    return { sha256, bytes };
  };
  return { held: { self, nodes, hash } };
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

/** The fingerprints in the registry of the nodes' signing keys (retired ones too: what they signed before stays valid). */
export async function registeredFingerprints(config: string | undefined): Promise<string[]> {
  const { store } = await openRecordingStore(config);
  try {
    const keys = (await store.recordings.signingKeys()).map((k) => k.fingerprint);
    if (keys.length === 0) {
      throw new GatewayError('VALIDATION_FAILED', 'the store has no registered signing key', {
        hint: 'Point --config (or PSVGW_DATA_DIR) at the gateway that made it; a gateway registers its key when it starts.',
      });
    }
    return keys;
  } finally {
    await store.close();
  }
}
