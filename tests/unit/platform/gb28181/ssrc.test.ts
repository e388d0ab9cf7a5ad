import { describe, expect, it } from 'vitest';
import { domainDigits, makeSsrc, parseSsrc, SsrcAllocator, SsrcError, ssrcFromSdp } from '../../../../src/platform/gb28181/media/ssrc.js';

describe('GB/T 28181 SSRC', () => {
  it('takes digits 4 to 8 of the domain ID (10 digits, or the 20-digit ID that starts with it)', () => {
    expect(domainDigits('3402000000')).toBe('20000');
    expect(domainDigits('44010200492000000001')).toBe('10200');
    expect(() => domainDigits('34020')).toThrow(SsrcError);
  });

  it('builds live (0…) and history (1…) SSRCs as ten digits with the RTP value', () => {
    expect(makeSsrc('live', '4401020049', 1)).toEqual({ text: '0102000001', value: 102_000_001, standard: true, kind: 'live' });
    expect(makeSsrc('history', '44010200492000000001', 9999)).toEqual({
      text: '1102009999',
      value: 1_102_009_999,
      standard: true,
      kind: 'history',
    });
    expect(() => makeSsrc('live', '3400000000', 0)).toThrow(SsrcError);
    expect(() => makeSsrc('live', '3400000000', 10_000)).toThrow(SsrcError);
  });

  it('reads y= from an SDP body; non-standard values are kept but flagged; all zeros and junk are refused', () => {
    const sdp = 'v=0\r\no=34020000002000000001 0 0 IN IP4 10.0.0.1\r\ns=Play\r\nm=video 6000 RTP/AVP 96\r\ny=0100000001\r\nf=\r\n';
    expect(ssrcFromSdp(sdp)).toEqual({ text: '0100000001', value: 100_000_001, standard: true, kind: 'live' });
    expect(ssrcFromSdp('v=0\r\ns=Playback\r\n')).toBeNull();
    expect(parseSsrc('1234')).toEqual({ text: '1234', value: 1234, standard: false });
    expect(parseSsrc('4294967295').standard).toBe(false);
    expect(() => parseSsrc('0000000000')).toThrow(/all zeros/);
    expect(() => parseSsrc('4294967296')).toThrow(SsrcError);
    expect(() => parseSsrc('null')).toThrow(SsrcError);
    expect(() => ssrcFromSdp('y=\r\n')).toThrow(SsrcError);
  });

  it('allocates a fresh SSRC per session, skipping those in use or reserved, and reuses released ones later', () => {
    const pool = new SsrcAllocator('3402000000');
    const a = pool.allocate('live');
    const b = pool.allocate('live');
    expect([a.text, b.text]).toEqual(['0200000001', '0200000002']);
    expect(pool.allocate('history').text).toBe('1200000001');
    pool.reserve(parseSsrc('0200000003'));
    expect(pool.allocate('live').text).toBe('0200000004');
    pool.release(a);
    for (let i = 5; i <= 9999; i += 1) pool.allocate('live');
    // The serials wrap to 1, which was released; 2 is still in use.
    expect(pool.allocate('live').text).toBe('0200000001');
    expect(() => pool.allocate('live')).toThrow(/in use/);
  });

  it('never hands out all zeros, even for a domain whose digits 4-8 are zeros', () => {
    const ssrc = new SsrcAllocator('3400000000').allocate('live');
    expect(ssrc.text).toBe('0000000001');
    expect(ssrc.value).toBe(1);
  });
});
