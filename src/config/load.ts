import { readFileSync } from 'node:fs';
import { parseDocument, type YAMLError } from 'yaml';
import { z } from 'zod';
import { GatewayError } from '../errors.js';
import { redactPushTarget, redactUrl } from '../log.js';
import { GatewayConfigSchema, GatewayConfigShape, type GatewayConfig } from './schema.js';

/**
 * Loads the configuration in a fixed order: schema defaults, then the YAML file, then
 * environment variables, then validation of the whole. Every problem found is reported
 * at once, each at its dotted key path, so one run of `psvgw config check` shows them all.
 */

export interface LoadConfigOptions {
  /** YAML file to read; when `text` is given too, it only names the source in messages. */
  file?: string;
  /** Environment to take overrides from; process.env when unset. */
  env?: NodeJS.ProcessEnv;
  /** YAML text used instead of reading `file`. */
  text?: string;
}

export interface EnvOverride {
  name: string;
  path: readonly string[];
  /** `port` values must be whole numbers; the schema checks their range. */
  kind: 'string' | 'port';
}

export const ENV_OVERRIDES: readonly EnvOverride[] = [
  { name: 'PSVGW_MODE', path: ['mode'], kind: 'string' },
  { name: 'PSVGW_PROFILE', path: ['profile'], kind: 'string' },
  { name: 'PSVGW_DATA_DIR', path: ['dataDir'], kind: 'string' },
  { name: 'PSVGW_HTTP_PORT', path: ['http', 'port'], kind: 'port' },
  { name: 'PSVGW_MEDIA_HOST', path: ['media', 'host'], kind: 'string' },
  { name: 'PSVGW_RTMP_HOST', path: ['media', 'rtmpHost'], kind: 'string' },
  { name: 'PSVGW_RTMP_PORT', path: ['media', 'rtmpPort'], kind: 'port' },
  { name: 'PSVGW_MEDIA_HTTP_PORT', path: ['media', 'httpPort'], kind: 'port' },
  { name: 'PSVGW_STORE_DRIVER', path: ['store', 'driver'], kind: 'string' },
  { name: 'PSVGW_POSTGRES_URL', path: ['store', 'postgresUrl'], kind: 'string' },
  { name: 'PSVGW_FFMPEG', path: ['ffmpeg', 'ffmpegPath'], kind: 'string' },
  { name: 'PSVGW_FFPROBE', path: ['ffmpeg', 'ffprobePath'], kind: 'string' },
  { name: 'PSVGW_LOG_LEVEL', path: ['logging', 'level'], kind: 'string' },
  { name: 'PSVGW_LOG_FORMAT', path: ['logging', 'format'], kind: 'string' },
  { name: 'PSVGW_SIP_PORT', path: ['gb28181', 'sipPort'], kind: 'port' },
  { name: 'PSVGW_ALERT_WEBHOOK_URL', path: ['alerts', 'webhookUrl'], kind: 'string' },
  { name: 'PSVGW_ALERT_WEBHOOK_SECRET', path: ['alerts', 'webhookSecret'], kind: 'string' },
  { name: 'PSVGW_ADMIN_TOKEN', path: ['secrets', 'adminToken'], kind: 'string' },
  { name: 'PSVGW_SECRET_KEY', path: ['secrets', 'secretKey'], kind: 'string' },
  { name: 'PSVGW_SIGNING_KEY_FILE', path: ['recording', 'signingKeyFile'], kind: 'string' },
  { name: 'PSVGW_NODE_NAME', path: ['cluster', 'nodeName'], kind: 'string' },
  { name: 'PSVGW_NODE_API_URL', path: ['cluster', 'apiUrl'], kind: 'string' },
];

type RawConfig = Record<string, unknown>;
type IssuePath = readonly PropertyKey[];

export function loadConfig(opts: LoadConfigOptions = {}): GatewayConfig {
  const source = opts.file ?? (opts.text === undefined ? '(defaults and environment)' : '(config text)');
  const text = opts.text ?? (opts.file === undefined ? '' : readConfigFile(opts.file));
  const problems: string[] = [];
  const raw = parseYaml(text, source, problems);
  if ('secrets' in raw) {
    problems.push('secrets: not allowed in the config file; set the PSVGW_ADMIN_TOKEN and PSVGW_SECRET_KEY environment variables instead');
    delete raw.secrets;
  }
  const origins = applyEnv(raw, opts.env ?? process.env, problems);
  const result = GatewayConfigSchema.safeParse(raw, { reportInput: true });
  if (result.success && problems.length === 0) return result.data;
  if (!result.success) problems.push(...formatConfigIssues(result.error.issues, origins));
  throw invalidConfig(source, opts.file, problems);
}

function readConfigFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new GatewayError('CONFIG_NOT_FOUND', `Config file not found: ${file}`, {
        hint: 'Give the path of an existing file with --config, or start from config/gateway.example.yaml.',
        cause: err,
      });
    }
    throw new GatewayError('CONFIG_INVALID', `Cannot read config file ${file}: ${(err as Error).message}`, {
      hint: 'Check that the path names a readable file.',
      cause: err,
    });
  }
}

/** An empty file is an empty mapping; anything but a mapping at the top is a problem. */
function parseYaml(text: string, source: string, problems: string[]): RawConfig {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const first = doc.errors[0];
  if (first !== undefined) throw yamlError(first, source);
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {};
  if (typeof value === 'object' && !Array.isArray(value)) return value as RawConfig;
  problems.push(`(top level): must be a mapping of keys to values, got ${typeName(value)}`);
  return {};
}

function yamlError(err: YAMLError, source: string): GatewayError {
  const pos = err.linePos?.[0];
  const where = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
  const [head = err.message, frame = ''] = err.message.split(/ at line \d+, column \d+:\n/);
  const context = frame.trimEnd() === '' ? '' : `\n${frame.trimEnd()}`;
  return new GatewayError('CONFIG_INVALID', `${source}: YAML syntax error${where}: ${head}${context}`, {
    hint: 'Fix the YAML syntax there (indent with spaces, close quotes and brackets, no repeated keys).',
    details: { code: err.code, line: pos?.line, column: pos?.col },
    cause: err,
  });
}

/** Overlays env values on the file's values; returns which key came from which variable. */
function applyEnv(raw: RawConfig, env: NodeJS.ProcessEnv, problems: string[]): Map<string, string> {
  const origins = new Map<string, string>();
  for (const o of ENV_OVERRIDES) {
    const text = env[o.name];
    // An empty variable (FOO= in a compose file) means "not set".
    if (text === undefined || text.trim() === '') continue;
    const value = envValue(o, text.trim());
    const key = formatPath(o.path);
    if (value === undefined) {
      problems.push(`${key}: must be a whole number, got ${JSON.stringify(text)} (from ${o.name})`);
      continue;
    }
    if (setPath(raw, o.path, value)) origins.set(key, o.name);
  }
  return origins;
}

function envValue(o: EnvOverride, text: string): string | number | undefined {
  if (o.kind === 'string') return text;
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

/** Leaves a section that is not a mapping alone, so the file's own error is still reported. */
function setPath(target: RawConfig, path: readonly string[], value: unknown): boolean {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (node[key] === undefined) node[key] = {};
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) return false;
    node = next as RawConfig;
  }
  node[path[path.length - 1] as string] = value;
  return true;
}

function invalidConfig(source: string, file: string | undefined, problems: string[]): GatewayError {
  const lines = problems.map((p) => `  - ${p}`).join('\n');
  return new GatewayError('CONFIG_INVALID', `Invalid configuration (${source}):\n${lines}`, {
    hint:
      'Correct each key listed (an env variable named in brackets overrides the file), then run ' +
      `\`psvgw config check ${file ?? 'FILE'}\` to check it without starting the gateway.`,
    details: { source, problems },
  });
}

/** One line per problem, `<dotted.key.path>: <what is wrong>`, naming the env variable a value came from. */
export function formatConfigIssues(issues: readonly z.core.$ZodIssue[], origins: ReadonlyMap<string, string> = new Map()): string[] {
  return issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => `${formatPath([...issue.path, k])}: unknown key${suggestKey(issue.path, k)}`);
    }
    const key = formatPath(issue.path);
    const origin = origins.get(key);
    return [`${key}: ${describeIssue(issue)}${origin === undefined ? '' : ` (from ${origin})`}`];
  });
}

function describeIssue(issue: z.core.$ZodIssue): string {
  // A secret's value never reaches a message, even a wrong one.
  const shown = issue.path[0] === 'secrets' ? '' : showInput(issue.input);
  switch (issue.code) {
    case 'too_small':
      return boundMessage(issue.origin, issue.inclusive ? '≥' : '>', issue.minimum);
    case 'too_big':
      return boundMessage(issue.origin, issue.inclusive ? '≤' : '<', issue.maximum);
    case 'invalid_type':
      return typeMessage(issue.expected, issue.input, shown);
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}${shown && `, got ${shown}`}`;
    default:
      return issue.message;
  }
}

function boundMessage(origin: string, op: string, bound: number | bigint): string {
  if (origin === 'string') return bound === 1 && op === '≥' ? 'must not be empty' : `length must be ${op} ${bound}`;
  if (origin === 'array') return `must have ${op} ${bound} items`;
  return `must be ${op} ${bound}`;
}

function typeMessage(expected: string, input: unknown, shown: string): string {
  if (input === undefined) return 'is required';
  const names: Record<string, string> = { int: 'a whole number', object: 'a mapping', array: 'a list' };
  const want = names[expected] ?? `a ${expected}`;
  const quote = expected === 'string' && typeof input === 'number' ? ' (quote it in YAML)' : '';
  return `must be ${want}, got ${typeName(input)}${shown && ` ${shown}`}${quote}`;
}

function showInput(input: unknown): string {
  if (input === undefined || (typeof input === 'object' && input !== null)) return '';
  const text = JSON.stringify(input) ?? String(input);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

function formatPath(path: IssuePath): string {
  if (path.length === 0) return '(top level)';
  return path.reduce<string>((acc, seg) => {
    if (typeof seg === 'number') return `${acc}[${seg}]`;
    return acc === '' ? String(seg) : `${acc}.${String(seg)}`;
  }, '');
}

/** "(did you mean rtmpPort?)" for a near miss of a key the schema knows at that place. */
function suggestKey(path: IssuePath, key: string): string {
  const known = knownKeysAt(path);
  const best = known.find((k) => k.toLowerCase() === key.toLowerCase()) ?? known.find((k) => editDistance(k, key) <= 2);
  return best === undefined ? '' : ` (did you mean ${best}?)`;
}

function knownKeysAt(path: IssuePath): string[] {
  let node: z.ZodType | undefined = GatewayConfigShape;
  for (const seg of path) node = node instanceof z.ZodObject ? unwrap(node.shape[String(seg)]) : undefined;
  return node instanceof z.ZodObject ? Object.keys(node.shape) : [];
}

/** Strips default/prefault/optional wrappers down to the schema they wrap. */
function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let s = schema;
  while (s !== undefined && !(s instanceof z.ZodObject)) {
    const inner = (s._zod.def as { innerType?: z.ZodType }).innerType;
    if (inner === undefined) return s;
    s = inner;
  }
  return s;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

export type SecretState = '[set]' | '[not set]';

export type ConfigSummary = Omit<GatewayConfig, 'secrets' | 'alerts' | 'gb28181'> & {
  gb28181: Omit<GatewayConfig['gb28181'], 'platforms'> & {
    platforms: Array<Omit<GatewayConfig['gb28181']['platforms'][number], 'password'> & { password: SecretState }>;
  };
  alerts: Omit<GatewayConfig['alerts'], 'webhooks' | 'webhookSecret'> & {
    webhooks: Array<Omit<GatewayConfig['alerts']['webhooks'][number], 'secret'> & { secret: SecretState }>;
    webhookSecret: SecretState;
  };
  secrets: { adminToken: SecretState; secretKey: SecretState };
};

/** The config as the start-up log may show it: secrets reduced to set/not set, URLs without credentials. */
export function describeConfig(config: GatewayConfig): ConfigSummary {
  const state = (v: string | undefined): SecretState => (v === undefined ? '[not set]' : '[set]');
  const { postgresUrl } = config.store;
  return {
    ...config,
    store: { ...config.store, ...(postgresUrl === undefined ? {} : { postgresUrl: redactUrl(postgresUrl) }) },
    platform: { pushTargets: config.platform.pushTargets.map(redactPushTarget) },
    gb28181: { ...config.gb28181, platforms: config.gb28181.platforms.map((p) => ({ ...p, password: state(p.password) })) },
    alerts: {
      ...config.alerts,
      webhooks: config.alerts.webhooks.map((w) => ({ ...w, url: redactUrl(w.url), secret: state(w.secret) })),
      ...(config.alerts.webhookUrl === undefined ? {} : { webhookUrl: redactUrl(config.alerts.webhookUrl) }),
      webhookSecret: state(config.alerts.webhookSecret),
    },
    secrets: { adminToken: state(config.secrets.adminToken), secretKey: state(config.secrets.secretKey) },
  };
}
