import type { Command } from 'commander';
import { fetchReport, reportOptions, type ReportOptions } from './healthCommands.js';

/** `psvgw register`: the access register of a period, through the API (register.read: admin or auditor). */
export function registerRegisterCommand(program: Command): void {
  reportOptions(
    program
      .command('register')
      .description('the access register (访问登记): every view, copy, export and platform play of footage, with who, why and how much')
      .option('--from <date>', 'start: YYYY-MM-DD or ISO time (default 30 days before --to)')
      .option('--to <date>', 'end: YYYY-MM-DD or ISO time (default now)')
      .option('--camera <id>', 'only retrievals of this camera'),
    'csv, html (printable), pdf (English, Latin-1 only) or json',
  )
    .addHelpText(
      'after',
      `
Examples:
  psvgw register --from 2026-11-01 --to 2026-12-01 --format html -o register.html
  psvgw register --from 2026-11-01 --format csv --lang en -o register.csv
Each row names the recorder (the approver; psv-gateway for an exemption, the shared tier or a
platform push), the retriever and the request's staff, start and end, method, purpose,
destination, cameras, footage range, bytes, and the request or the exemption's article.
Retrievals still running are listed as ongoing.`,
    )
    .action((o: ReportOptions & { camera?: string }) =>
      fetchReport('/api/v1/access-register', { from: o.from, to: o.to, cameraId: o.camera, format: o.format, lang: o.lang, tz: o.tz }, o),
    );
}
