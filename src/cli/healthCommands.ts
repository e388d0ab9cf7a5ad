import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Incident } from '../health/index.js';
import type { FilingRecord, MaintenanceWindow } from '../store/index.js';
import { callApi, downloadApi, resolveApiTarget } from './apiClient.js';
import { apiOptions, type ApiOptions } from './cameraCommands.js';
import { printJson, printTable } from './output.js';

export interface ReportOptions extends ApiOptions {
  format: string;
  lang: string;
  tz: string;
  out?: string;
  from?: string;
  to?: string;
}

export const reportOptions = (cmd: Command, formats: string) =>
  apiOptions(
    cmd
      .option('--format <format>', formats, 'csv')
      .option('--lang <lang>', 'zh (Chinese), en (English) or bilingual; HTML only (PDF is always English)', 'zh')
      .option('--tz <zone>', 'time zone the HTML and PDF print times in', 'Asia/Shanghai')
      .option('-o, --out <file>', 'write to this file instead of standard output'),
  );

export async function fetchReport(path: string, query: Record<string, string | undefined>, o: ReportOptions): Promise<void> {
  const params = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined));
  const { body } = await downloadApi(resolveApiTarget(o), `${path}?${params.toString()}`);
  if (o.out === undefined) {
    process.stdout.write(body);
    return;
  }
  writeFileSync(o.out, body);
  process.stderr.write(`wrote ${o.out} (${body.length} bytes)\n`);
}

export function registerHealthCommands(program: Command): void {
  const report = program.command('report').description('print the outage report or the filing report for the police');
  reportOptions(
    report
      .command('outages')
      .description('every stop of every camera in a period (start, end, duration, cause, planned) and uptime per camera')
      .option('--from <date>', 'start: YYYY-MM-DD or ISO time (default 30 days before --to)')
      .option('--to <date>', 'end: YYYY-MM-DD or ISO time (default now)'),
    'csv, html (printable) or pdf',
  )
    .addHelpText(
      'after',
      `
Examples:
  psvgw report outages --from 2026-11-01 --to 2026-12-01 --format html -o outages.html
  psvgw report outages --from 2026-11-01 --format pdf -o outages.pdf   # English labels, camera IDs
Planned stops are those that began inside a maintenance window (psvgw maintenance add).
Uptime leaves out planned stops.`,
    )
    .action((o: ReportOptions) =>
      fetchReport('/api/v1/reports/outages', { from: o.from, to: o.to, format: o.format, lang: o.lang, tz: o.tz }, o),
    );

  reportOptions(
    report
      .command('filing')
      .description('camera point list for filing (备案): site types, signage, commissioning and removal dates, 30-day deadlines'),
    'csv, geojson (the point map) or html (printable)',
  )
    .addHelpText(
      'after',
      `
Deadlines follow the active profile (hubei, qingdao, yunnan and strict: 30 days); cameras
past a deadline without a recorded filing are flagged OVERDUE. Record a filing with
  psvgw filing record --camera <id> --event commissioning --date 2026-11-20 --ref "备案号"`,
    )
    .action((o: ReportOptions) => fetchReport('/api/v1/reports/filing', { format: o.format, lang: o.lang, tz: o.tz }, o));

  const maintenance = program.command('maintenance').description('declare planned maintenance ahead: stops inside it are marked planned');
  apiOptions(
    maintenance
      .command('add')
      .description('declare a maintenance window (reported in the outage report)')
      .requiredOption('--from <time>', 'start, ISO time with zone, e.g. 2026-12-02T22:00:00+08:00')
      .requiredOption('--to <time>', 'end, ISO time with zone')
      .requiredOption('--reason <text>', 'what is done, e.g. "replace the PoE switch"')
      .option('--camera <id>', 'only this camera (default: every camera)')
      .option('--json', 'print JSON'),
  ).action(async (o: ApiOptions & { from: string; to: string; reason: string; camera?: string; json?: boolean }) => {
    const w = await callApi<MaintenanceWindow>(resolveApiTarget(o), 'POST', '/api/v1/maintenance', {
      startsAt: o.from,
      endsAt: o.to,
      reason: o.reason,
      ...(o.camera === undefined ? {} : { cameraId: o.camera }),
    });
    if (o.json) return printJson(w);
    process.stdout.write(`maintenance window ${w.id} declared: ${w.startsAt} to ${w.endsAt} (${w.cameraId ?? 'every camera'})\n`);
  });
  apiOptions(maintenance.command('list').description('list maintenance windows').option('--json', 'print JSON')).action(
    async (o: ApiOptions & { json?: boolean }) => {
      const { items } = await callApi<{ items: MaintenanceWindow[] }>(resolveApiTarget(o), 'GET', '/api/v1/maintenance');
      if (o.json) return printJson(items);
      printTable(
        items.map((w) => ({ id: String(w.id), camera: w.cameraId ?? '(all)', from: w.startsAt, to: w.endsAt, reason: w.reason })),
        ['id', 'camera', 'from', 'to', 'reason'],
      );
    },
  );
  apiOptions(maintenance.command('remove').description('remove a maintenance window').argument('<id>', 'window id')).action(
    async (id: string, o: ApiOptions) => {
      await callApi(resolveApiTarget(o), 'DELETE', `/api/v1/maintenance/${encodeURIComponent(id)}`);
      process.stdout.write(`maintenance window ${id} removed\n`);
    },
  );

  apiOptions(
    program
      .command('incidents')
      .description('list the incidents firing now (camera down, shared tier dark, …)')
      .option('--json', 'print JSON'),
  ).action(async (o: ApiOptions & { json?: boolean }) => {
    const { items } = await callApi<{ items: Incident[] }>(resolveApiTarget(o), 'GET', '/api/v1/incidents');
    if (o.json) return printJson(items);
    printTable(
      items.map((i) => ({ camera: i.cameraId ?? '(gateway)', kind: i.kind, severity: i.severity, since: i.since, message: i.message })),
      ['camera', 'kind', 'severity', 'since', 'message'],
    );
  });

  const filing = program.command('filing').description('record filings (备案) made with the police');
  apiOptions(
    filing
      .command('record')
      .description('record that a camera was filed, so the filing report stops flagging it')
      .requiredOption('--camera <id>', 'camera ID')
      .requiredOption('--event <event>', 'commissioning or removal')
      .requiredOption('--date <YYYY-MM-DD>', 'date it was filed')
      .option('--ref <text>', 'the filing number or reference'),
  ).action(async (o: ApiOptions & { camera: string; event: string; date: string; ref?: string }) => {
    const f = await callApi<FilingRecord>(resolveApiTarget(o), 'POST', '/api/v1/filings', {
      cameraId: o.camera,
      event: o.event,
      filedAt: o.date,
      ...(o.ref === undefined ? {} : { reference: o.ref }),
    });
    process.stdout.write(`filing recorded: camera ${f.cameraId}, ${f.event}, ${f.filedAt}\n`);
  });
}
