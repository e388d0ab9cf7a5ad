import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  buildDossier,
  DOSSIER_PARTS,
  dossierSource,
  verifyDossierFile,
  writeFileAtomic,
  type DossierVerification,
} from '../dossier/index.js';
import { GatewayError } from '../errors.js';
import { parseFingerprint, parseTime } from '../recording/index.js';
import { checkLang, checkTimeZone } from '../reports/index.js';
import { printJson } from './output.js';
import { collect, openRecordingStore, registeredFingerprints } from './verifyCommand.js';

interface DossierFlags {
  config?: string;
  from?: string;
  to?: string;
  output?: string;
  lang?: string;
  tz?: string;
}

export function registerDossierCommands(program: Command): void {
  const dossier = program
    .command('dossier')
    .description('write the unit’s compliance dossier for a period: one signed bundle for the filing police station')
    .option('-c, --config <file>', 'YAML config file of the gateway (data directory, store, signing key)')
    .option('--from <time>', 'start of the period (ISO-8601 or ms since 1970)')
    .option('--to <time>', 'end of the period (default: now)')
    .option('-o, --output <file>', 'the bundle to write (a .tar)')
    .option('--lang <lang>', 'language of the printable parts: zh, en, bilingual', 'bilingual')
    .option('--tz <zone>', 'time zone the printable parts print times in', 'Asia/Shanghai')
    .addHelpText(
      'after',
      `
Reads the store of the config (or PSVGW_DATA_DIR) and may run while the gateway runs.
The chains are verified against recording.trustedKeys when the config pins keys.
The bundle is a tar archive of: each part as JSON and printable HTML (the outage ledger
also as PDF): ${DOSSIER_PARTS.map((p) => p.name).join(', ')};
manifest.json (every file's SHA-256 and size, the period, the gateway, the signer's key),
manifest.sig (Ed25519 over manifest.json with the recording signing key) signer.pem and SHA256SUMS.
Check it with \`psvgw dossier verify FILE --trust SHA256:…\`, or without the gateway (see README).

Example:
  psvgw dossier --config /etc/psvgw/gateway.yaml --from 2026-11-01 --to 2026-12-01 -o dossier-2026-11.tar`,
    )
    .action(async (flags: DossierFlags) => {
      process.exitCode = await runDossier(flags);
    });
  dossier
    .command('verify <file>')
    .description('check a dossier offline: the signature, the signer key and every file of every part')
    .option('--trust <fingerprint>', 'the signer key must be this one (repeatable)', collect, [])
    .option('--registered', "the signer key must be one of the nodes' registered keys (psvgw keys list), read from the gateway's store")
    .option('-c, --config <file>', 'with --registered: YAML config file of the gateway (its store)')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `
Names each problem:
  changed        a file's bytes differ from its SHA-256 in the manifest (the part is named)
  missing        a file the manifest lists is not in the archive
  extra          a file in the archive that the manifest does not list
  bad_signature  manifest.sig does not verify, or the key does not match its fingerprint
  untrusted_key  signed by a key other than the --trust fingerprints (or the registered keys, --registered)
  malformed      not a readable archive or manifest
Without --trust the key is the one the bundle carries, which proves only that the bundle is
whole: pin the gateway's fingerprint (psvgw verify prints it).
Exit status: 0 verified, 1 any problem.`,
    )
    .action(async (file: string, flags: { trust: string[]; registered?: boolean; config?: string; json?: boolean }) => {
      const trust = flags.trust.map((t) => parseFingerprint(t, '--trust'));
      if (flags.registered) trust.push(...(await registeredFingerprints(flags.config)));
      const report = verifyDossierFile(resolve(file), trust);
      if (flags.json) printJson(report);
      else printVerification(report);
      process.exitCode = report.ok ? 0 : 1;
    });
}

async function runDossier(flags: DossierFlags): Promise<number> {
  if (flags.from === undefined || flags.output === undefined) {
    throw new GatewayError('CONFIG_INVALID', `psvgw dossier needs ${flags.from === undefined ? '--from' : '-o/--output'}`, {
      hint: 'e.g. psvgw dossier --from 2026-11-01 --to 2026-12-01 -o dossier.tar',
    });
  }
  const from = new Date(parseTime(flags.from, '--from'));
  const to = new Date(flags.to === undefined ? Date.now() : parseTime(flags.to, '--to'));
  if (from.getTime() >= to.getTime()) throw new GatewayError('CONFIG_INVALID', '--from must be before --to');
  const { config, dataDir, store } = await openRecordingStore(flags.config);
  try {
    const source = await dossierSource(config, dataDir, store, {
      from,
      to,
      lang: checkLang(flags.lang),
      timeZone: checkTimeZone(flags.tz),
    });
    const bytes = await buildDossier({ ...source, parts: DOSSIER_PARTS, progress: (line) => process.stderr.write(`${line}\n`) });
    const out = resolve(flags.output);
    writeFileAtomic(out, bytes);
    process.stdout.write(`dossier written: ${out} (${bytes.length} bytes), signed by ${source.signer.fingerprint}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

function printVerification(r: DossierVerification): void {
  const who = r.gateway === null ? '' : ` of ${r.gateway.name} (${r.gateway.regionCode})`;
  const period = r.period === null ? '' : `, ${r.period.from} – ${r.period.to}`;
  process.stdout.write(`dossier${who}${period}; signer ${r.fingerprint ?? 'unknown'}${r.pinned ? ' (pinned)' : ''}\n`);
  if (!r.pinned) {
    process.stdout.write('WARNING: the signer key was taken from the bundle itself; pin the gateway fingerprint with --trust.\n');
  }
  for (const p of r.problems) {
    process.stdout.write(`${p.kind.toUpperCase().padEnd(14)} ${p.part === null ? '' : `part ${p.part}: `}${p.message}\n`);
  }
  process.stdout.write(r.ok ? `OK: ${r.parts.length} part(s), ${r.files} file(s) verified\n` : `FAILED: ${r.problems.length} problem(s)\n`);
}
