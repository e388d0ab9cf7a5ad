import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactSecretsInText, redactUrl } from '../../../src/log.js';

describe('redaction', () => {
  it('hides passwords in URLs inside free text, such as ffmpeg stderr', () => {
    const line = "Input #0, rtsp, from 'rtsp://admin:S3cr3t!@10.0.0.5:554/Streaming/Channels/101':";
    expect(redactSecretsInText(line)).toBe("Input #0, rtsp, from 'rtsp://admin:***@10.0.0.5:554/Streaming/Channels/101':");
  });

  it('hides token, key and sign query values', () => {
    const out = redactSecretsInText('GET /raw/1.flv?token=abc.def&x=1 rtmp://h/raw/1?sign=123-abc&psvgw=1');
    expect(out).not.toMatch(/abc\.def|123-abc/);
    expect(out).toContain('x=1');
  });

  it('redactUrl keeps the user but not the password', () => {
    expect(redactUrl('rtsp://admin:pw@cam:554/x?token=t')).toBe('rtsp://admin:***@cam:554/x?token=***');
  });
});

describe('structured log redaction', () => {
  it('blanks passwords, tokens, refresh tokens, API keys and credential numbers wherever they sit in a log object', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ level: 'info', destination });
    const secrets = {
      password: 'pw-1-secret',
      token: 'tok-2-secret',
      refreshToken: 'refresh-3-secret',
      apiKey: 'psvgw_key-4-secret',
      credentialNo: 'PC-5-secret',
      passwordHash: '$argon2id$6-secret',
    };
    logger.info(secrets, 'top level');
    logger.info({ user: secrets }, 'nested');
    logger.info({ body: secrets }, 'request body');
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      for (const secret of Object.values(secrets)) expect(line).not.toContain(secret);
    }
  });
});
