import { describe, expect, it } from 'vitest';
import { redactSecretsInText, redactUrl } from '../../../src/log.js';

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
