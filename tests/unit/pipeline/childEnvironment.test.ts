/**
 * Every child the gateway starts sees a minimal environment: real processes here (a fake
 * ffmpeg and timedatectl that write out what they were given), the parent's environment
 * holding the secrets the gateway is started with.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropGatewayVariables } from '../../../src/childEnv.js';
import { ENV_OVERRIDES } from '../../../src/config/index.js';
import { readNtpState } from '../../../src/health/diagnostics/clock.js';
import { FfmpegProcess } from '../../../src/pipeline/ffmpegProcess.js';
import { readFfmpegCapabilities } from '../../../src/pipeline/ffmpegCapabilities.js';

const logger = pino({ level: 'silent' });
const SECRETS = { PSVGW_SECRET_KEY: 'secret-key-do-not-leak', PSVGW_ADMIN_TOKEN: 'admin-token-do-not-leak' };

let dir: string;
const saved: Record<string, string | undefined> = {};

/** A fake executable that writes its environment to `<name>.env` and prints `stdout`. */
function fakeTool(name: string, stdout: string): string {
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\nenv > '${file}.env'\ncat <<'OUT'\n${stdout}\nOUT\n`);
  chmodSync(file, 0o755);
  return file;
}

function envOf(tool: string): Record<string, string> {
  const text = readFileSync(`${tool}.env`, 'utf8');
  return Object.fromEntries(
    text
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

function expectMinimal(env: Record<string, string>): void {
  expect(Object.keys(env).filter((k) => k.startsWith('PSVGW_'))).toEqual([]);
  expect(JSON.stringify(env)).not.toContain('do-not-leak');
  expect(env.PATH).toBe(process.env.PATH);
  expect(env.OTHER_PARENT_VARIABLE).toBeUndefined();
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'psvgw-childenv-'));
  for (const [k, v] of Object.entries({ ...SECRETS, OTHER_PARENT_VARIABLE: 'x', PATH: `${dir}:${process.env.PATH ?? ''}` })) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
});

afterAll(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('child processes get a minimal environment', () => {
  it('FfmpegProcess (ingest, masking, sampler, snapshot, push, probes)', async () => {
    const tool = fakeTool('fake-ffmpeg', 'ok');
    const exit = await new FfmpegProcess({ binary: tool, args: [], logger, stdout: 'capture' }).start();
    expect(exit.code).toBe(0);
    expectMinimal(envOf(tool));
  });

  it('the ffmpeg capability and encoder discovery', async () => {
    const tool = fakeTool(
      'fake-ffmpeg-caps',
      [
        'ffmpeg version 7.1.1 Copyright (c) 2000-2025 the FFmpeg developers',
        'Encoders:',
        ' V..... = Video',
        ' A..... = Audio',
        ' ------',
        ' V....D libx264              libx264 H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10 (codec h264)',
        ' V....D h264_nvenc           NVIDIA NVENC H.264 encoder (codec h264)',
        ' A....D aac                  AAC (Advanced Audio Coding)',
        ' S..... dvbsub               DVB subtitles (codec dvb_subtitle)',
      ].join('\n'),
    );
    // fluent-ffmpeg passes its parent's environment on: psvgw start drops PSVGW_* from it first.
    const dropped = dropGatewayVariables(ENV_OVERRIDES.map((o) => o.name));
    try {
      expect(dropped).toEqual(expect.arrayContaining(Object.keys(SECRETS)));
      const caps = await readFfmpegCapabilities(tool, logger);
      expect(caps).toEqual({ version: '7.1.1', videoEncoders: ['h264_nvenc', 'libx264'], hasLibx264: true });
      const env = envOf(tool);
      expect(Object.keys(env).filter((k) => k.startsWith('PSVGW_'))).toEqual([]);
      expect(JSON.stringify(env)).not.toContain('do-not-leak');
    } finally {
      Object.assign(process.env, SECRETS);
    }
  });

  it('the NTP state probe (timedatectl)', async () => {
    const tool = fakeTool('timedatectl', 'yes');
    expect(await readNtpState()).toEqual({ state: 'synchronized', source: 'timedatectl' });
    expectMinimal(envOf(tool));
  });
});
