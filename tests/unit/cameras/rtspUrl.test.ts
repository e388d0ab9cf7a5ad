import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/errors.js';
import { normalizeRtspUrl, withCredentials } from '../../../src/cameras/rtspUrl.js';

describe('normalizeRtspUrl', () => {
  it.each([
    ['rtsp://192.168.1.64:554/Streaming/Channels/101', 'rtsp://192.168.1.64:554/Streaming/Channels/101', null],
    ['  rtsp://192.168.1.64/h264  ', 'rtsp://192.168.1.64/h264', null],
    ['RTSP://Cam-1.Example.LAN:8554/live', 'rtsp://cam-1.example.lan:8554/live', null],
    ['rtsps://10.0.0.5:322/stream1', 'rtsps://10.0.0.5:322/stream1', null],
    ['rtsp://[fe80::1]:554/ch1', 'rtsp://[fe80::1]:554/ch1', null],
    ['rtsp://192.168.1.108:554/cam/realmonitor?channel=1&subtype=0', 'rtsp://192.168.1.108:554/cam/realmonitor?channel=1&subtype=0', null],
    ['rtsp://admin:12345@192.168.1.64/ch1', 'rtsp://192.168.1.64/ch1', { username: 'admin', password: '12345' }],
    ['rtsp://admin:p%40ss%3Aw%2Frd@10.1.1.1/x', 'rtsp://10.1.1.1/x', { username: 'admin', password: 'p@ss:w/rd' }],
    ['rtsp://admin:p@ss@10.1.1.1/x', 'rtsp://10.1.1.1/x', { username: 'admin', password: 'p@ss' }],
    ['rtsp://%E7%AE%A1%E7%90%86:pw@10.1.1.1/x', 'rtsp://10.1.1.1/x', { username: '管理', password: 'pw' }],
    ['rtsp://viewer@10.1.1.1/x', 'rtsp://10.1.1.1/x', { username: 'viewer', password: '' }],
    ['rtsp://10.1.1.1/x#frag', 'rtsp://10.1.1.1/x', null],
  ])('accepts %s', (raw, url, credentials) => {
    expect(normalizeRtspUrl(raw)).toEqual({ url, credentials });
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['http://192.168.1.64/stream', /uses http:\/\/.*only rtsp:\/\/ and rtsps:\/\//],
    ['rtmp://192.168.1.64/live/1', /uses rtmp:\/\//],
    ['file:///etc/passwd', /uses file:\/\//],
    ['192.168.1.64:554/Streaming/Channels/101', /no rtsp:\/\/ or rtsps:\/\/ scheme/],
    ['garbage', /no rtsp:\/\/ or rtsps:\/\/ scheme/],
    ['rtsp:192.168.1.64/x', /must start with rtsp:\/\/ followed by/],
    ['rtsp://', /no host/],
    ['rtsp:///Streaming/Channels/101', /no host/],
    ['rtsp://:554/x', /no host/],
    ['rtsp://admin:pw@/x', /no host/],
    ['rtsp://192.168.1.64:99999/x', /port 99999 is out of range/],
    ['rtsp://192.168.1.64:abc/x', /port "abc" is not a number/],
    ['rtsp://192.168.1.64:0/x', /port 0/],
    ['rtsp://192.168.1.64/a b', /spaces/],
  ])('refuses %j', (raw, message) => {
    try {
      normalizeRtspUrl(raw);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(GatewayError);
      const e = err as GatewayError;
      expect(e.code).toBe('CAMERA_URL_INVALID');
      expect(e.message).toMatch(message);
      expect(e.hint).toContain('rtsp://192.168.1.64:554/Streaming/Channels/101');
    }
  });

  it('never echoes a password from a URL it refuses', () => {
    for (const raw of ['http://admin:Secr3t@cam/x', 'rtsp://admin:Sec#r3t@cam/x', 'rtsp://admin:Secr3t@cam:99999/x']) {
      try {
        normalizeRtspUrl(raw);
        expect.unreachable();
      } catch (err) {
        expect(JSON.stringify((err as GatewayError).toJSON())).not.toMatch(/Sec#?r3t/);
      }
    }
  });

  it('lets explicit credentials win over the URL, field by field', () => {
    const raw = 'rtsp://admin:old@10.1.1.1/x';
    expect(normalizeRtspUrl(raw, { password: 'new' }).credentials).toEqual({ username: 'admin', password: 'new' });
    expect(normalizeRtspUrl(raw, { username: 'ops', password: 'pw' }).credentials).toEqual({
      username: 'ops',
      password: 'pw',
    });
    expect(normalizeRtspUrl('rtsp://10.1.1.1/x', { username: 'u', password: 'p' }).credentials).toEqual({
      username: 'u',
      password: 'p',
    });
    expect(normalizeRtspUrl('rtsp://10.1.1.1/x', { username: '', password: '' }).credentials).toBeNull();
  });
});

describe('withCredentials', () => {
  it('puts percent-encoded user info back for ffmpeg', () => {
    expect(withCredentials('rtsp://10.1.1.1/x', { username: 'admin', password: 'p@ss:w/rd#?' })).toBe(
      'rtsp://admin:p%40ss%3Aw%2Frd%23%3F@10.1.1.1/x',
    );
  });

  it('round-trips through normalizeRtspUrl', () => {
    const creds = { username: '管理 员', password: '%41 p@:/?#[]' };
    const url = 'rtsp://192.168.1.64:554/Streaming/Channels/101?transport=tcp';
    expect(normalizeRtspUrl(withCredentials(url, creds))).toEqual({ url, credentials: creds });
  });

  it('leaves the URL alone without credentials', () => {
    expect(withCredentials('rtsp://10.1.1.1/x', null)).toBe('rtsp://10.1.1.1/x');
    expect(withCredentials('rtsp://10.1.1.1/x', { username: '', password: '' })).toBe('rtsp://10.1.1.1/x');
  });
});
