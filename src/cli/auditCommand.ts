import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { GatewayError } from '../errors.js';
import { parseFingerprint, parseTime, verifyAuditLog, type AuditLogVerification } from '../recording/index.js';
import { toCsv } from '../reports/index.js';
import { printJson } from './output.js';
import { collect, gatewayKeyRing, openRecordingStore } from './verifyCommand.js';

const EXPORT_FORMATS = ['csv', 'json'] as const;
type ExportFormat = (typeof EXPORT_FORMATS)[number];

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('the audit log: an append-only hash chain of every state change, login and access');
  audit
    .command('verify')
    .description('prove that no audit entry was changed, removed or reordered')
    .option('-c, --config <file>', 'YAML config file of the gateway (data directory, store)')
    .option('--trust <fingerprint>', 'trust only this signing key (repeatable; adds to recording.trustedKeys)', collect, [])
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `
Reads the store of the config (or PSVGW_DATA_DIR) and may run while the gateway runs.
The first bad entry is named by its seq and row id:
  changed     the entry's content differs from what its hash committed to
  missing     an entry was deleted: the next seq is absent
  reordered   rows were stored out of seq order
  unlinked    an entry does not commit to the entry before it
  unchained   a chained row lost its chain fields
  truncated   entries a signed checkpoint covers are gone (the newest deleted)
  rewritten   the entry at a signed seq is not the one signed
  checkpoint_invalid / untrusted_key
              a checkpoint whose signature or link fails, or signed by a key not pinned
  head_unsigned  entries older than two checkpoint intervals that no checkpoint covers
Checkpoints are signed with the recording signing key (see psvgw verify, --trust).
Exit status: 0 the chain verified, 1 any finding (or an error).`,
    )
    .action(async (flags: { config?: string; json?: boolean; trust: string[] }) => {
      const pins = flags.trust.map((t) => parseFingerprint(t, '--trust'));
      const { config, dataDir, store } = await openRecordingStore(flags.config);
      try {
        const { keys } = await gatewayKeyRing(config, dataDir, store, pins);
        const report = await verifyAuditLog({
          store,
          keys,
          nowMs: Date.now(),
          maxUnsignedMs: 2 * config.recording.checkpointSeconds * 1000,
        });
        if (flags.json) printJson(report);
        else printVerification(report);
        process.exitCode = report.ok ? 0 : 1;
      } finally {
        await store.close();
      }
    });
  audit
    .command('export')
    .description('write the audit entries of a period with their chain fields, to check or archive')
    .option('-c, --config <file>', 'YAML config file of the gateway (data directory, store)')
    .option('--from <time>', 'entries at or after this time (ISO-8601)')
    .option('--to <time>', 'entries at or before this time (ISO-8601)')
    .option('--format <format>', `one of ${EXPORT_FORMATS.join(', ')}`, 'json')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action(async (flags: { config?: string; from?: string; to?: string; format: string; output?: string }) => {
      const format = checkFormat(flags.format);
      const query = {
        ...(flags.from === undefined ? {} : { from: isoTime(flags.from, '--from') }),
        ...(flags.to === undefined ? {} : { to: isoTime(flags.to, '--to') }),
      };
      const { store } = await openRecordingStore(flags.config);
      try {
        const entries = await store.audit.chain(query);
        const text =
          format === 'json'
            ? `${JSON.stringify(entries, null, 2)}\n`
            : toCsv(
                ['seq', 'id', 'at', 'actor', 'action', 'camera_id', 'outcome', 'details', 'prev_hash', 'entry_hash'],
                entries.map((e) => [
                  e.seq ?? null,
                  e.id ?? null,
                  e.at,
                  e.actor,
                  e.action,
                  e.cameraId,
                  e.outcome,
                  JSON.stringify(e.details),
                  e.prevHash ?? null,
                  e.entryHash ?? null,
                ]),
              );
        if (flags.output === undefined) process.stdout.write(text);
        else writeFileSync(flags.output, text);
      } finally {
        await store.close();
      }
    });
}

function printVerification(r: AuditLogVerification): void {
  const head = r.head === null ? 'empty chain' : `head seq ${r.head.seq} ${r.head.entryHash}, signed up to seq ${r.signedSeq}`;
  const pending = r.pending > 0 ? `, ${r.pending} older entries not yet chained (the next append chains them)` : '';
  if (r.ok) {
    process.stdout.write(`audit chain verified: ${r.entries} entries, ${head}${pending}\n`);
    return;
  }
  process.stdout.write(`audit chain FAILED: ${r.problems.length} finding(s); first: ${r.problems[0]?.kind} ${r.problems[0]?.message}\n`);
  for (const p of r.problems) process.stdout.write(`  ${p.kind.padEnd(10)} seq ${p.seq ?? '-'} id ${p.id ?? '-'}: ${p.message}\n`);
}

function checkFormat(value: string): ExportFormat {
  if ((EXPORT_FORMATS as readonly string[]).includes(value)) return value as ExportFormat;
  throw new GatewayError('CONFIG_INVALID', `--format ${JSON.stringify(value)} is not known`, {
    hint: `Use one of ${EXPORT_FORMATS.join(', ')}.`,
  });
}

/** Accepts what `psvgw verify` accepts and compares as ISO-8601 text, like the stored `at`. */
function isoTime(value: string, flag: string): string {
  return new Date(parseTime(value, flag)).toISOString();
}
