import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { GatewayError } from '../../../src/errors.js';

function problemOf(text: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    loadConfig({ text, env });
  } catch (err) {
    if (err instanceof GatewayError) return err.message;
    throw err;
  }
  throw new Error('the config was accepted');
}

describe('media settings', () => {
  it('binds RTMP to loopback by default, HTTP-FLV to every address', () => {
    const { media } = loadConfig({ env: {} });
    expect(media.rtmpHost).toBe('127.0.0.1');
    expect(media.host).toBe('0.0.0.0');
  });

  it('takes the RTMP address from PSVGW_RTMP_HOST', () => {
    expect(loadConfig({ env: { PSVGW_RTMP_HOST: '0.0.0.0' } }).media.rtmpHost).toBe('0.0.0.0');
  });

  it('refuses an RTMP address the gateway could not reach its own server on, saying why', () => {
    expect(problemOf('media:\n  rtmpHost: 192.0.2.7\n')).toMatch(
      /media\.rtmpHost: must be 127\.0\.0\.1, 0\.0\.0\.0, ::: the gateway's own ffmpegs publish and read over 127\.0\.0\.1/,
    );
  });

  it('has small limits before authentication by default', () => {
    expect(loadConfig({ env: {} }).media.limits).toEqual({
      maxConnections: 1024,
      maxConnectionsPerAddress: 32,
      preAuthMessageBytes: 64 * 1024,
      mediaMessageBytes: 8 * 1024 * 1024,
      wsMaxPayloadBytes: 64 * 1024,
      authTimeoutSeconds: 10,
    });
  });

  it('refuses a message cap above what RTMP can declare', () => {
    expect(problemOf('media:\n  limits:\n    mediaMessageBytes: 20000000\n')).toMatch(
      /media\.limits\.mediaMessageBytes: must be ≤ 16777216/,
    );
  });
});
