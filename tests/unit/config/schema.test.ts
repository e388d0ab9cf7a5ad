import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../../src/errors.js';
import { loadConfig } from '../../../src/config/load.js';
import {
  GatewayConfigSchema,
  GatewayConfigShape,
  backoffMaxNotBelowInitial,
  retentionNotBelowProfileMinimum,
  gatewayConfigJsonSchema,
  portsDistinct,
  postgresNeedsUrl,
  productionNeedsSecrets,
  pushTargetsHaveSupportedScheme,
  type ConfigRule,
  type GatewayConfig,
  type GatewayConfigInput,
} from '../../../src/config/schema.js';

/** The problem lines of the CONFIG_INVALID error a config text raises. */
function problemsOf(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    loadConfig({ text, env });
  } catch (err) {
    if (isGatewayError(err) && err.code === 'CONFIG_INVALID') return (err.details as { problems: string[] }).problems;
    throw err;
  }
  throw new Error('config was accepted');
}

const valid = (input: GatewayConfigInput = {}): GatewayConfig => GatewayConfigSchema.parse(input);

describe('bad config files', () => {
  const cases: [string, string, string][] = [
    ['misspelt nested key', 'media:\n  rtmpPrt: 1935\n', 'media.rtmpPrt: unknown key (did you mean rtmpPort?)'],
    ['unknown top-level key', 'colour: blue\n', 'colour: unknown key'],
    ['unknown deep key', 'ingest:\n  backoff:\n    maxMS: 10\n', 'ingest.backoff.maxMS: unknown key (did you mean maxMs?)'],
    ['stall below 1 s', 'ingest:\n  stallSeconds: 0.5\n', 'ingest.stallSeconds: must be ≥ 1'],
    ['port out of range', 'http:\n  port: 70000\n', 'http.port: must be ≤ 65535'],
    ['port not whole', 'media:\n  httpPort: 80.5\n', 'media.httpPort: must be a whole number'],
    ['port as text', 'http:\n  port: eighty\n', 'http.port: must be a number, got string "eighty"'],
    ['jitter above 1', 'ingest:\n  backoff:\n    jitter: 1.5\n', 'ingest.backoff.jitter: must be ≤ 1'],
    ['diagnostics sampled too often', 'diagnostics:\n  sampleFps: 30\n', 'diagnostics.sampleFps: must be ≤ 5'],
    [
      'diagnostics share above 1',
      'diagnostics:\n  thresholds:\n    frozenMaxMotion: 2\n',
      'diagnostics.thresholds.frozenMaxMotion: must be ≤ 1',
    ],
    ['clock drift limit of 0', 'diagnostics:\n  maxClockDriftSeconds: 0\n', 'diagnostics.maxClockDriftSeconds: must be > 0'],
    ['token TTL too short', 'media:\n  playTokenTtlSeconds: 5\n', 'media.playTokenTtlSeconds: must be ≥ 30'],
    ['token TTL too long', 'media:\n  playTokenTtlSeconds: 100000\n', 'media.playTokenTtlSeconds: must be ≤ 86400'],
    ['internal token lifetime too short', 'media:\n  internalTokenSeconds: 4\n', 'media.internalTokenSeconds: must be ≥ 5'],
    ['internal token lifetime of years', 'media:\n  internalTokenSeconds: 315360000\n', 'media.internalTokenSeconds: must be ≤ 86400'],
    ['unknown mode', 'mode: prod\n', 'mode: must be one of "development", "production", got "prod"'],
    ['unknown profile', 'profile: beijing\n', 'profile: must be one of "strict"'],
    ['unknown log level', 'logging:\n  level: verbose\n', 'logging.level: must be one of'],
    ['unknown store driver', 'store:\n  driver: mysql\n', 'store.driver: must be one of "sqlite", "postgres"'],
    ['udp spelt wrong', 'ingest:\n  rtspTransport: UDP\n', 'ingest.rtspTransport: must be one of "tcp", "udp"'],
    [
      'unquoted region code',
      'gateway:\n  regionCode: 44030500\n',
      'gateway.regionCode: must be a string, got number 44030500 (quote it in YAML)',
    ],
    ['short region code', "gateway:\n  regionCode: '440305'\n", 'gateway.regionCode: must be a civil region code'],
    ['no such province', "gateway:\n  regionCode: '99030500'\n", 'gateway.regionCode: must start with a province code'],
    ['two-digit network code', "gateway:\n  networkCode: '88'\n", 'gateway.networkCode: must be a network code'],
    ['removed key', 'http:\n  publicUrl: https://gw.example.org\n', 'http.publicUrl: unknown key'],
    ['public host with scheme', 'media:\n  publicHost: http://x\n', 'media.publicHost: must be a host name or IP address'],
    ['postgres URL of another kind', 'store:\n  postgresUrl: mysql://db/x\n', 'store.postgresUrl: must be a postgres://'],
    ['empty ffmpeg path', "ffmpeg:\n  ffmpegPath: ''\n", 'ffmpeg.ffmpegPath: must not be empty'],
    ['section given as a list', 'http: [8080]\n', 'http: must be a mapping, got a list'],
    ['section left empty', 'http:\n', 'http: must be a mapping, got null'],
    ['push targets not a list', 'platform:\n  pushTargets: rtmp://x/app\n', 'platform.pushTargets: must be a list, got string'],
    ['top level a list', '- a\n- b\n', '(top level): must be a mapping'],
    [
      'secrets in the file',
      'secrets:\n  adminToken: hunter2\n',
      'secrets: not allowed in the config file; set the PSVGW_ADMIN_TOKEN and PSVGW_SECRET_KEY',
    ],
    ['postgres without URL', 'store:\n  driver: postgres\n', 'store.postgresUrl: is required when store.driver is postgres'],
    ['ports clash', 'media:\n  httpPort: 8080\n', 'media.httpPort: 8080 is already used by http.port'],
    [
      'push target over http',
      'platform:\n  pushTargets: ["http://x/live"]\n',
      'platform.pushTargets[0]: must be an rtmp://, rtmps:// or rtsp:// URL',
    ],
    [
      'backoff max below initial',
      'ingest:\n  backoff:\n    initialMs: 5000\n    maxMs: 1000\n',
      'ingest.backoff.maxMs: must be ≥ ingest.backoff.initialMs (5000)',
    ],
  ];

  it.each(cases)('%s', (_name, text, expected) => {
    expect(problemsOf(text).join('\n')).toContain(expected);
  });

  it('lists every problem at once, not only the first', () => {
    const problems = problemsOf('media:\n  rtmpPrt: 1\nhttp:\n  port: 0\ningest:\n  stallSeconds: 0\nmode: x\n');
    expect(problems).toHaveLength(4);
    expect(problems.map((p) => p.split(':')[0])).toEqual(
      expect.arrayContaining(['media.rtmpPrt', 'http.port', 'ingest.stallSeconds', 'mode']),
    );
  });

  it('never echoes a secret value in a message', () => {
    const problems = problemsOf('mode: production\n', { PSVGW_ADMIN_TOKEN: 'tiny-secret-value', PSVGW_SECRET_KEY: 'k' });
    expect(problems.join('\n')).not.toContain('tiny-secret-value');
  });
});

describe('cross-field rules', () => {
  const strongKey = 'k'.repeat(8) + 'abcdefghijklmnopqrstuvwxyz012345';
  const strongToken = 'tok-0123456789abcdefghijklmn';
  const cases: [string, ConfigRule, GatewayConfigInput, string[]][] = [
    ['postgres needs a URL', postgresNeedsUrl, { store: { driver: 'postgres' } }, ['store.postgresUrl']],
    ['postgres with a URL', postgresNeedsUrl, { store: { driver: 'postgres', postgresUrl: 'postgres://db/x' } }, []],
    ['sqlite needs none', postgresNeedsUrl, {}, []],
    ['http and rtmp clash', portsDistinct, { http: { port: 1935 } }, ['media.rtmpPort']],
    [
      'all three clash',
      portsDistinct,
      { http: { port: 9000 }, media: { rtmpPort: 9000, httpPort: 9000 } },
      ['media.rtmpPort', 'media.httpPort'],
    ],
    ['ports distinct', portsDistinct, {}, []],
    ['development needs no secrets', productionNeedsSecrets, {}, []],
    ['production without secrets', productionNeedsSecrets, { mode: 'production' }, ['secrets.secretKey', 'secrets.adminToken']],
    [
      'production with short secrets',
      productionNeedsSecrets,
      { mode: 'production', secrets: { secretKey: 'abcdefghij', adminToken: 'abcdefghij' } },
      ['secrets.secretKey', 'secrets.adminToken'],
    ],
    [
      'production with placeholder secrets',
      productionNeedsSecrets,
      { mode: 'production', secrets: { secretKey: 'x'.repeat(40), adminToken: 'changeme'.repeat(4) } },
      ['secrets.secretKey', 'secrets.adminToken'],
    ],
    [
      'production with strong secrets',
      productionNeedsSecrets,
      { mode: 'production', secrets: { secretKey: strongKey, adminToken: strongToken } },
      [],
    ],
    [
      'push over rtmp, rtmps, rtsp',
      pushTargetsHaveSupportedScheme,
      { platform: { pushTargets: ['rtmp://a/b', 'rtmps://a/b', 'rtsp://a:554/b'] } },
      [],
    ],
    [
      'push over http and a bare word',
      pushTargetsHaveSupportedScheme,
      { platform: { pushTargets: ['rtmp://a/b', 'http://a/b', 'live'] } },
      ['platform.pushTargets.1', 'platform.pushTargets.2'],
    ],
    [
      'backoff max below initial',
      backoffMaxNotBelowInitial,
      { ingest: { backoff: { initialMs: 100, maxMs: 50 } } },
      ['ingest.backoff.maxMs'],
    ],
    ['backoff max equal to initial', backoffMaxNotBelowInitial, { ingest: { backoff: { initialMs: 100, maxMs: 100 } } }, []],
    ['retention from the profile', retentionNotBelowProfileMinimum, {}, []],
    ['retention at the strict minimum', retentionNotBelowProfileMinimum, { recording: { retentionDays: 30 } }, []],
    [
      'retention below the strict minimum',
      retentionNotBelowProfileMinimum,
      {
        recording: {
          retentionDays: 29,
          perCamera: [
            { cameraId: 'a', retentionDays: 90 },
            { cameraId: 'b', retentionDays: 7 },
          ],
        },
      },
      ['recording.retentionDays', 'recording.perCamera.1.retentionDays'],
    ],
    ['15 days under hubei', retentionNotBelowProfileMinimum, { profile: 'hubei', recording: { retentionDays: 15 } }, []],
    ['guangdong sets no minimum', retentionNotBelowProfileMinimum, { profile: 'guangdong', recording: { retentionDays: 1 } }, []],
  ];

  it.each(cases)('%s', (_name, rule, input, paths) => {
    // The shape alone, so that the rule under test is the only one judging.
    const config = GatewayConfigShape.parse(input);
    expect(rule(config).map((i) => i.path.join('.'))).toEqual(paths);
  });
});

describe('defaults and JSON Schema', () => {
  it('an empty config is complete and valid', () => {
    const c = valid();
    expect(c.http.port).toBe(8080);
    expect(c.media).toMatchObject({ rtmpPort: 1935, httpPort: 8000, playTokenTtlSeconds: 3600, internalTokenSeconds: 600 });
    expect(c.ingest.backoff).toEqual({ initialMs: 500, factor: 2, maxMs: 30000, jitter: 0.2 });
    expect(c.gateway).toEqual({ name: 'psv-gateway', regionCode: '44030500', industryCode: '00', networkCode: '8', typeCode: '132' });
    expect(c.profile).toBe('strict');
    expect(c.secrets).toEqual({});
  });

  it('describes every field and forbids unknown keys at every level', () => {
    const missing: string[] = [];
    const open: string[] = [];
    const walk = (node: Record<string, unknown>, path: string): void => {
      if (node.type !== 'object') return;
      if (node.additionalProperties !== false) open.push(path || '(top level)');
      for (const [key, child] of Object.entries(node.properties as Record<string, Record<string, unknown>>)) {
        const p = path ? `${path}.${key}` : key;
        if (typeof child.description !== 'string' || child.description === '') missing.push(p);
        walk(child, p);
      }
    };
    walk(gatewayConfigJsonSchema(), '');
    expect(missing).toEqual([]);
    expect(open).toEqual([]);
  });

  it('leaves secrets out of the file schema and carries defaults', () => {
    const schema = gatewayConfigJsonSchema() as { properties: Record<string, { properties?: Record<string, { default?: unknown }> }> };
    expect(schema.properties).not.toHaveProperty('secrets');
    expect(schema.properties.http?.properties?.port?.default).toBe(8080);
  });
});
