import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { ExportJob } from '../domain/index.js';
import { verifyExport, type ExportVerification } from '../exports/index.js';
import { parseFingerprint } from '../recording/index.js';
import { callApi, downloadApi, resolveApiTarget } from './apiClient.js';
import { printJson } from './output.js';
import { ProgressBar } from './progressBar.js';
import { collect, registeredFingerprints } from './verifyCommand.js';

export function registerExportCommands(program: Command): void {
  const exp = program.command('export').description('watermarked, signed clips of recordings, and their offline check');
  exp
    .command('verify')
    .description('check an exported clip against its signed manifest, offline')
    .argument('<clip>', 'the exported MP4')
    .argument('<manifest>', 'its manifest (JSON)')
    .option('--trust <fingerprint>', 'accept only this signing key (repeatable; e.g. SHA256:…, from psvgw verify)', collect, [])
    .option('--registered', "accept only the nodes' registered signing keys (psvgw keys list), read from the gateway's store")
    .option('-c, --config <file>', 'with --registered: YAML config file of the gateway (its store)')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `
Needs no gateway (--registered reads its store). Reports, each naming what failed:
  clip_changed       the clip's SHA-256 is not the signed one (the clip was altered)
  field_changed      clip.bytes or clip.file in the manifest disagrees with the clip
  signature_invalid  a manifest field was changed after signing (the signature cannot say which)
  key_mismatch       signer.fingerprint is not that of the manifest's public key
  untrusted_key      signed by a key not given with --trust
Without --trust any valid signature passes: compare the printed fingerprint with the gateway's.
Exit status: 0 the export verified, 1 any finding (or an error).`,
    )
    .action(async (clip: string, manifest: string, flags: { trust: string[]; registered?: boolean; config?: string; json?: boolean }) => {
      const pins = flags.trust.map((t) => parseFingerprint(t, '--trust'));
      if (flags.registered) pins.push(...(await registeredFingerprints(flags.config)));
      const report = verifyExport(clip, manifest, pins);
      if (flags.json) printJson(report);
      else printReport(report);
      process.exitCode = report.ok ? 0 : 1;
    });
  exp
    .command('create')
    .description('export a range of a camera under an approved export request; shows progress, then downloads clip and manifest')
    .requiredOption('--request <id>', 'the approved export request')
    .requiredOption('--camera <id>', 'the camera')
    .requiredOption('--from <time>', 'start (ISO-8601)')
    .requiredOption('--to <time>', 'end (ISO-8601)')
    .option('-o, --out <dir>', 'where to write the clip and manifest', '.')
    .option('--api <url>', 'gateway API base URL (default $PSVGW_API_URL or http://127.0.0.1:$PSVGW_HTTP_PORT)')
    .option('--token <token>', 'your session token or API key (default $PSVGW_ADMIN_TOKEN)')
    .action(async (o: { request: string; camera: string; from: string; to: string; out: string; api?: string; token?: string }) => {
      const target = resolveApiTarget(o);
      let job = await callApi<ExportJob>(target, 'POST', '/api/v1/exports', {
        requestId: o.request,
        cameraId: o.camera,
        from: o.from,
        to: o.to,
      });
      const bar = new ProgressBar(`export ${job.id}`, process.stderr, 'share');
      while (job.state === 'queued' || job.state === 'running') {
        await new Promise((r) => setTimeout(r, 500));
        job = await callApi<ExportJob>(target, 'GET', `/api/v1/exports/${job.id}`);
        bar.update(Math.round(job.progress * 1000), 1000);
      }
      bar.finish();
      if (job.state === 'failed') throw new Error(`export ${job.id} failed: ${job.error ?? 'no reason given'}`);
      for (const which of ['clip', 'manifest'] as const) {
        const file = join(o.out, job[which] ?? `${job.id}.${which}`);
        writeFileSync(file, (await downloadApi(target, `/api/v1/exports/${job.id}/${which}`)).body);
        process.stdout.write(`${which}: ${file}\n`);
      }
    });
}

function printReport(r: ExportVerification): void {
  const out = process.stdout;
  out.write(
    `clip      ${r.clip}\nmanifest  ${r.manifest}\nsigned by ${r.fingerprint ?? 'unknown'}${r.trusted === null ? ' (not pinned: pass --trust)' : r.trusted ? ' (trusted)' : ''}\n`,
  );
  for (const f of r.findings) out.write(`FAIL ${f.kind}${f.field === undefined ? '' : ` [${f.field}]`}: ${f.message}\n`);
  out.write(r.ok ? 'OK: the clip is the one the manifest signs\n' : `FAILED: ${r.findings.length} finding(s)\n`);
}
