#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { withCredentials, normalizeRtspUrl } from '../cameras/index.js';
import { gatewayConfigJsonSchema, loadConfig } from '../config/index.js';
import { createLogger } from '../log.js';
import { probeStream } from '../pipeline/index.js';
import { VERSION } from '../version.js';
import { registerCameraCommands } from './cameraCommands.js';
import { registerOnvifCommands } from './onvifCommands.js';
import { registerHealthCommands } from './healthCommands.js';
import { printError, printJson } from './output.js';
import { runStart } from './startCommand.js';
import { registerVerifyCommand } from './verifyCommand.js';
import { registerAuditCommands } from './auditCommand.js';
import { registerDossierCommands } from './dossierCommand.js';
import { registerUserCommands } from './userCommands.js';
import { registerRegisterCommand } from './registerCommand.js';
import { registerExportCommands } from './exportCommand.js';
import { registerChangeCommands } from './changeCommands.js';
import { registerPlatformCommands } from './platformCommands.js';
import { registerNodeCommands } from './nodeCommands.js';
import { registerDemoCommand } from './demoCommand.js';

const program = new Command()
  .name('psvgw')
  .description(
    'psv-gateway: ingest RTSP cameras, mask and share their video with the public-security sharing platform,\n' +
      'serve live feeds to control rooms, and watch their health.',
  )
  .version(VERSION)
  .showHelpAfterError()
  .addHelpText(
    'after',
    `
Quick start:
  psvgw start --config config/gateway.example.yaml        run the gateway (SQLite store in ./data)
  psvgw demo                                               a demo camera (test picture) for a first look; --outage 10 stops it
  psvgw probe rtsp://user:pass@192.168.1.64/Streaming/Channels/101   check a camera before adding it
  psvgw cameras add --name "Gate 1" --url rtsp://... --site-type school_gate
  psvgw cameras list
  psvgw cameras update <id> --masks masks.json           privacy masks burnt into the shared tier
  psvgw cameras snapshot <id> --tier shared -o a.jpg     preview what the platform receives
  psvgw discover                                           find ONVIF cameras on the network
  psvgw onboard 192.168.1.64 --username admin --site-type road   add an ONVIF camera
  psvgw report outages --from 2026-11-01 --format html -o outages.html
  psvgw register --from 2026-11-01 --format html -o register.html   who viewed or exported what footage
  psvgw verify --config config/gateway.example.yaml      prove the recordings are whole and unaltered
  psvgw audit verify --config config/gateway.example.yaml   prove the audit log is whole and unaltered
  psvgw dossier --from 2026-11-01 -o dossier.tar          the signed compliance dossier for the filing police
  psvgw users add --username li.wei --role police --password-file pw.txt   add a user
  psvgw api-keys create --user nvr-sync --role operator   an API key for a machine (shown once)
  psvgw changes list                                       changes that weaken protection, pending a second admin
  psvgw platforms list                                     GB/T 28181 upper platforms and their link state

Environment:
  PSVGW_HTTP_PORT     API, metrics and console port (default 8080)
  PSVGW_DATA_DIR      database, keys and media-server state (default ./data)
  PSVGW_ADMIN_TOKEN   admin bearer token; the CLI uses it to call the API
  PSVGW_SECRET_KEY    master key for camera credentials and playback tokens (required in production)
  PSVGW_API_URL       where the camera commands find the gateway

Every command has its own --help.`,
  );

program
  .command('start')
  .description('run the gateway: API, media server, camera pipelines, metrics')
  .option('-c, --config <file>', 'YAML config file (see config/gateway.example.yaml)')
  .addHelpText(
    'after',
    '\nStops cleanly on SIGTERM or SIGINT: every ffmpeg child is stopped before the gateway exits.\n' +
      'Logs: readable lines on a terminal, one JSON object a line when piped (for collectors);\n' +
      'PSVGW_LOG_FORMAT=json|pretty (or logging.format) chooses, PSVGW_LOG_LEVEL=debug shows more.',
  )
  .action(async (o: { config?: string }) => runStart(o.config));

registerCameraCommands(program);
registerOnvifCommands(program);
registerHealthCommands(program);
registerVerifyCommand(program);
registerAuditCommands(program);
registerDossierCommands(program);
registerUserCommands(program);
registerRegisterCommand(program);
registerExportCommands(program);
registerChangeCommands(program);
registerPlatformCommands(program);
registerNodeCommands(program);
registerDemoCommand(program);

program
  .command('probe')
  .description(
    'read what an RTSP camera sends (codec, resolution, fps, audio) with ffprobe; says clearly when the URL or password is wrong',
  )
  .argument('<rtsp-url>', 'camera URL, e.g. rtsp://192.168.1.64:554/Streaming/Channels/101')
  .option('--username <user>', 'camera account (or put it in the URL)')
  .option('--password <password>', 'camera password (or $PSVGW_CAMERA_PASSWORD)')
  .option('--timeout <seconds>', 'give up after this many seconds', Number, 10)
  .option('--json', 'print JSON')
  .action(async (url: string, o: { username?: string; password?: string; timeout: number; json?: boolean }) => {
    const password = o.password ?? process.env.PSVGW_CAMERA_PASSWORD;
    const normalized = normalizeRtspUrl(url, { ...(o.username ? { username: o.username } : {}), ...(password ? { password } : {}) });
    const info = await probeStream(withCredentials(normalized.url, normalized.credentials), {
      ffprobePath: process.env.PSVGW_FFPROBE ?? 'ffprobe',
      rtspTransport: 'tcp',
      timeoutMs: o.timeout * 1000,
      socketTimeoutSeconds: Math.min(5, o.timeout),
      logger: createLogger({ level: 'error' }),
    });
    if (o.json) return printJson(info);
    const v = info.video;
    process.stdout.write(`video: ${v.codec}${v.profile ? ` (${v.profile})` : ''} ${v.width}x${v.height} @ ${v.fps ?? '?'} fps\n`);
    process.stdout.write(
      `audio: ${info.audio ? `${info.audio.codec} ${info.audio.sampleRate ?? '?'} Hz ${info.audio.channels ?? '?'} ch` : 'none'}\n`,
    );
    process.stdout.write(`live tier: ${v.codec === 'h264' ? 'copied as is' : 'transcoded to H.264 (FLV cannot carry ' + v.codec + ')'}\n`);
  });

const configCmd = program.command('config').description('check a config file or print its schema');
configCmd
  .command('check')
  .description('validate a config file (with the environment overrides applied) and print the effective settings')
  .argument('<file>', 'YAML config file')
  .action((file: string) => {
    loadConfig({ file });
    process.stdout.write(`${file}: valid\n`);
  });
configCmd
  .command('schema')
  .description('print the JSON Schema of the config file (for editors and CI)')
  .action(() => printJson(gatewayConfigJsonSchema()));

program.exitOverride();
try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  printError(err);
  process.exit(1);
}
