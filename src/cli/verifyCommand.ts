import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import { ChainSigner, PUBLIC_KEY_SETTING, parseTime, recordingsDir, verifyRecordings, type VerifyReport } from '../recording/index.js';
import { openStore } from '../store/index.js';
import { printJson } from './output.js';
import { ProgressBar } from './progressBar.js';

interface VerifyFlags {
  config?: string;
  camera?: string;
  from?: string;
  to?: string;
  json?: boolean;
}

export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description('prove that no recorded segment was altered, removed or slipped in: checks hash chains, signed checkpoints and every file')
    .option('-c, --config <file>', 'YAML config file of the gateway (data directory, store, recordings directory)')
    .option('--camera <id>', 'only this camera')
    .option('--from <time>', 'only files from this time (ISO-8601 or ms since 1970); the chain is always checked whole')
    .option('--to <time>', 'only files up to this time')
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
  chain_broken / index_tampered / truncated / checkpoint_invalid
                  the index itself was edited, cut short or re-signed
Segments listed as RECOVERED are not findings: the gateway died while writing them and
indexed them when it started again (the mark is part of the hashed chain entry).
Exit status: 0 all verified, 1 any finding (or an error).

Example:
  psvgw verify --config /etc/psvgw/gateway.yaml --camera 44030500001320000001 --from 2026-12-01T00:00:00Z`,
    )
    .action(async (flags: VerifyFlags) => {
      process.exitCode = await runVerify(flags);
    });
}

async function runVerify(flags: VerifyFlags): Promise<number> {
  const config = loadConfig(flags.config === undefined ? {} : { file: flags.config });
  const dataDir = resolve(config.dataDir);
  const signer = ChainSigner.load(dataDir);
  const store = await openStore({
    driver: config.store.driver,
    sqlitePath: config.store.sqlitePath ?? join(dataDir, 'psvgw.db'),
    postgresUrl: config.store.postgresUrl,
  });
  const bar = flags.json ? null : new ProgressBar('verifying');
  try {
    const report = await verifyRecordings({
      store,
      dir: recordingsDir({ ...config, dataDir }),
      signer,
      expectedPublicPem: await store.settings.get(PUBLIC_KEY_SETTING),
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
  const summary = `${r.cameras} camera(s), ${r.segments} segment(s), ${(r.bytes / 1e6).toFixed(1)} MB checked${recovered}`;
  process.stdout.write(r.ok ? `OK: ${summary}, all verified\n` : `FAILED: ${r.findings.length} finding(s); ${summary}\n`);
}
