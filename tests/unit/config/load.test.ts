import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/errors.js';
import { ENV_OVERRIDES, describeConfig, loadConfig } from '../../../src/config/load.js';

const STRONG = {
  PSVGW_SECRET_KEY: 'Zq8w1Lr5Tn0Xc3Vb7Mk2Hs6Jd9Fg4Pa-',
  PSVGW_ADMIN_TOKEN: 'adm-7f3c9e1b5d2a8c4e6f0b',
};

function errorOf(f: () => unknown): GatewayError {
  try {
    f();
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('no error thrown');
}

const dir = mkdtempSync(join(tmpdir(), 'psvgw-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('load order: defaults, file, env', () => {
  it('uses defaults with neither file nor env', () => {
    expect(loadConfig({ env: {} }).http.port).toBe(8080);
  });

  it('file overrides defaults, env overrides the file', () => {
    const file = join(dir, 'ports.yaml');
    writeFileSync(file, 'http:\n  port: 9000\nmedia:\n  rtmpPort: 1940\n');
    const fromFile = loadConfig({ file, env: {} });
    expect(fromFile.http.port).toBe(9000);
    expect(fromFile.media.rtmpPort).toBe(1940);
    const fromEnv = loadConfig({ file, env: { PSVGW_HTTP_PORT: '9100' } });
    expect(fromEnv.http.port).toBe(9100);
    expect(fromEnv.media.rtmpPort).toBe(1940);
  });

  it('reads every documented env variable into its key', () => {
    const env = {
      PSVGW_MODE: 'production',
      PSVGW_PROFILE: 'yunnan',
      PSVGW_DATA_DIR: '/var/lib/psvgw',
      PSVGW_HTTP_PORT: '18080',
      PSVGW_MEDIA_HOST: '127.0.0.1',
      PSVGW_RTMP_HOST: '0.0.0.0',
      PSVGW_RTMP_PORT: '11935',
      PSVGW_MEDIA_HTTP_PORT: '18000',
      PSVGW_STORE_DRIVER: 'postgres',
      PSVGW_POSTGRES_URL: 'postgres://psvgw@db:5432/psvgw',
      PSVGW_FFMPEG: '/opt/ffmpeg/bin/ffmpeg',
      PSVGW_FFPROBE: '/opt/ffmpeg/bin/ffprobe',
      PSVGW_LOG_LEVEL: 'debug',
      PSVGW_LOG_FORMAT: 'json',
      PSVGW_SIP_PORT: '15061',
      PSVGW_ALERT_WEBHOOK_URL: 'https://ops.example/hook',
      PSVGW_ALERT_WEBHOOK_SECRET: 'hook-secret',
      PSVGW_SIGNING_KEY_FILE: '/run/secrets/signing.pem',
      PSVGW_NODE_NAME: 'gw-2',
      PSVGW_NODE_API_URL: 'http://gw-2:8080',
      ...STRONG,
    };
    expect(Object.keys(env).sort()).toEqual(ENV_OVERRIDES.map((o) => o.name).sort());
    const c = loadConfig({ env });
    expect(c).toMatchObject({
      mode: 'production',
      profile: 'yunnan',
      dataDir: '/var/lib/psvgw',
      http: { port: 18080 },
      media: { host: '127.0.0.1', rtmpHost: '0.0.0.0', rtmpPort: 11935, httpPort: 18000 },
      store: { driver: 'postgres', postgresUrl: 'postgres://psvgw@db:5432/psvgw' },
      ffmpeg: { ffmpegPath: '/opt/ffmpeg/bin/ffmpeg', ffprobePath: '/opt/ffmpeg/bin/ffprobe' },
      logging: { level: 'debug', format: 'json' },
      gb28181: { sipPort: 15061 },
      alerts: { webhookUrl: 'https://ops.example/hook', webhookSecret: 'hook-secret' },
      recording: { signingKeyFile: '/run/secrets/signing.pem' },
      cluster: { nodeName: 'gw-2', apiUrl: 'http://gw-2:8080' },
      secrets: { secretKey: STRONG.PSVGW_SECRET_KEY, adminToken: STRONG.PSVGW_ADMIN_TOKEN },
    });
  });

  it('treats an empty env variable as unset', () => {
    expect(loadConfig({ text: 'http:\n  port: 9000\n', env: { PSVGW_HTTP_PORT: '', PSVGW_ADMIN_TOKEN: ' ' } })).toMatchObject({
      http: { port: 9000 },
      secrets: {},
    });
  });

  it('ignores env variables it does not know', () => {
    expect(loadConfig({ env: { PSVGW_HTTP_PROT: '1' } }).http.port).toBe(8080);
  });
});

describe('env errors name the variable', () => {
  it.each([
    ['PSVGW_HTTP_PORT', 'eighty', 'http.port: must be a whole number, got "eighty" (from PSVGW_HTTP_PORT)'],
    ['PSVGW_RTMP_PORT', '19.35', 'media.rtmpPort: must be a whole number, got "19.35" (from PSVGW_RTMP_PORT)'],
    ['PSVGW_MEDIA_HTTP_PORT', '-1', 'media.httpPort: must be a whole number, got "-1" (from PSVGW_MEDIA_HTTP_PORT)'],
    ['PSVGW_HTTP_PORT', '70000', 'http.port: must be ≤ 65535 (from PSVGW_HTTP_PORT)'],
    ['PSVGW_HTTP_PORT', '0', 'http.port: must be ≥ 1 (from PSVGW_HTTP_PORT)'],
    ['PSVGW_MODE', 'prod', 'mode: must be one of "development", "production", got "prod" (from PSVGW_MODE)'],
    ['PSVGW_LOG_LEVEL', 'loud', 'logging.level: must be one of'],
    ['PSVGW_PROFILE', 'shanghai', '(from PSVGW_PROFILE)'],
  ])('%s=%s', (name, value, expected) => {
    const err = errorOf(() => loadConfig({ env: { [name]: value } }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain(expected);
  });
});

describe('production mode', () => {
  it('refuses to start without secrets and says which env variables to set', () => {
    const err = errorOf(() => loadConfig({ env: { PSVGW_MODE: 'production' } }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('secrets.secretKey: is not set (production); set PSVGW_SECRET_KEY');
    expect(err.message).toContain('secrets.adminToken: is not set (production); set PSVGW_ADMIN_TOKEN');
  });

  it('refuses short secrets', () => {
    const err = errorOf(() =>
      loadConfig({ env: { PSVGW_MODE: 'production', PSVGW_SECRET_KEY: 'short-key', PSVGW_ADMIN_TOKEN: STRONG.PSVGW_ADMIN_TOKEN } }),
    );
    expect(err.message).toContain('secrets.secretKey: is only 9 characters long; at least 32 are needed');
    expect(err.message).not.toContain('secrets.adminToken');
  });

  it('starts with strong secrets from the environment', () => {
    expect(loadConfig({ env: { PSVGW_MODE: 'production', ...STRONG } }).mode).toBe('production');
  });

  it('development mode starts without secrets', () => {
    expect(loadConfig({ env: {} }).secrets).toEqual({});
  });
});

describe('file errors', () => {
  it('a missing file is CONFIG_NOT_FOUND naming the path', () => {
    const file = join(dir, 'nope.yaml');
    const err = errorOf(() => loadConfig({ file, env: {} }));
    expect(err.code).toBe('CONFIG_NOT_FOUND');
    expect(err.message).toContain(file);
  });

  it.each([
    ['a repeated key', 'http:\n  port: 1\n  port: 2\n', 'line 3, column 3', 'Map keys must be unique'],
    ['a tab indent', 'http:\n\tport: 1\n', 'line 2, column 1', 'Tabs are not allowed'],
    ['an open quote', 'dataDir: "./data\n', 'line 2, column 1', 'Missing closing'],
  ])('YAML syntax: %s gives line and column', (_name, text, where, what) => {
    const file = join(dir, 'syntax.yaml');
    writeFileSync(file, text);
    const err = errorOf(() => loadConfig({ file, env: {} }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain(`${file}: YAML syntax error at ${where}`);
    expect(err.message).toContain(what);
  });

  it('an empty or comment-only file means all defaults', () => {
    expect(loadConfig({ text: '', env: {} }).http.port).toBe(8080);
    expect(loadConfig({ text: '# nothing yet\n', env: {} }).http.port).toBe(8080);
  });

  it('schema errors carry a hint naming the check command with the file', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'media:\n  rtmpPrt: 1935\n');
    const err = errorOf(() => loadConfig({ file, env: {} }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('media.rtmpPrt: unknown key');
    expect(err.hint).toContain(`psvgw config check ${file}`);
    expect(err.details).toMatchObject({ source: file, problems: [expect.stringContaining('media.rtmpPrt')] });
  });

  it('secrets in the file are refused even when the rest is valid', () => {
    const err = errorOf(() => loadConfig({ text: 'secrets:\n  secretKey: in-the-file\n', env: STRONG }));
    expect(err.message).toContain('PSVGW_SECRET_KEY');
    expect(err.message).not.toContain('in-the-file');
  });
});

describe('describeConfig', () => {
  it('hides secrets and credentials in URLs', () => {
    const c = loadConfig({
      text:
        'store:\n  driver: postgres\n  postgresUrl: postgres://psvgw:dbpass@db/psvgw\n' +
        'platform:\n  pushTargets: ["rtmp://live.example.org/app/streamKey123?token=abc"]\n' +
        'alerts:\n  webhooks:\n    - url: https://noc.example/h?token=hooktoken1\n      secret: hooksecret1\n',
      env: { ...STRONG, PSVGW_ALERT_WEBHOOK_SECRET: 'hooksecret2', PSVGW_ALERT_WEBHOOK_URL: 'https://u:hookpass@ops.example/x' },
    });
    const summary = describeConfig(c);
    for (const secret of ['hooktoken1', 'hooksecret1', 'hooksecret2', 'hookpass']) expect(JSON.stringify(summary)).not.toContain(secret);
    expect(summary.alerts.webhookSecret).toBe('[set]');
    const text = JSON.stringify(summary);
    expect(summary.secrets).toEqual({ adminToken: '[set]', secretKey: '[set]' });
    for (const secret of ['dbpass', 'streamKey123', 'abc', STRONG.PSVGW_SECRET_KEY, STRONG.PSVGW_ADMIN_TOKEN]) {
      expect(text).not.toContain(secret);
    }
    expect(summary.platform.pushTargets).toEqual(['rtmp://live.example.org/app/***?***']);
    expect(summary.http.port).toBe(8080);
  });

  it('shows a GB/T 28181 platform password only as set, and refuses it in the file in production', () => {
    const platform =
      'gb28181:\n  platforms:\n    - name: city\n      serverId: "34020000002000000001"\n      serverDomain: "3402000000"\n' +
      '      host: 10.0.0.1\n      deviceId: "34020000001180000001"\n      password: gbpass123\n';
    const summary = describeConfig(loadConfig({ text: platform, env: {} }));
    expect(JSON.stringify(summary)).not.toContain('gbpass123');
    expect(summary.gb28181.platforms[0]?.password).toBe('[set]');
    expect(() => loadConfig({ text: platform, env: { ...STRONG, PSVGW_MODE: 'production' } })).toThrow(/PSVGW_PLATFORM_CITY_PASSWORD/);
  });

  it('says when secrets are not set', () => {
    expect(describeConfig(loadConfig({ env: {} })).secrets).toEqual({ adminToken: '[not set]', secretKey: '[not set]' });
  });
});
