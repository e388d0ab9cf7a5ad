import { describe, expect, it } from 'vitest';
import { buildGbAnswer, mediaDescriptionLine, parseGbOffer, SdpRefusal, sessionSsrc } from '../../../../src/platform/gb28181/sdp.js';
import { SsrcAllocator } from '../../../../src/platform/gb28181/media/ssrc.js';

/** CRLF-joined SDP bodies in the shapes upper platforms send (fields as in the standard's Annex F examples). */
const sdp = (...lines: string[]) => Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8');

/** Live over UDP, PS/MPEG-4/H.264 offered, as in the 2016 edition's live-view flow. */
const LIVE_UDP = sdp(
  'v=0',
  'o=64010000002020000001 0 0 IN IP4 172.20.16.3',
  's=Play',
  'c=IN IP4 172.20.16.3',
  't=0 0',
  'm=video 6000 RTP/AVP 96 98 97',
  'a=recvonly',
  'a=rtpmap:96 PS/90000',
  'a=rtpmap:98 H264/90000',
  'a=rtpmap:97 MPEG4/90000',
  'y=0100000001',
  'f=',
);

/** Live over TCP with the platform listening (a=setup:passive), the form open-source platforms send for "TCP passive". */
const LIVE_TCP_PLATFORM_PASSIVE = sdp(
  'v=0',
  'o=34020000002000000001 0 0 IN IP4 192.168.1.20',
  's=Play',
  'c=IN IP4 192.168.1.20',
  't=0 0',
  'm=video 30002 TCP/RTP/AVP 96 97 98 99',
  'a=recvonly',
  'a=rtpmap:96 PS/90000',
  'a=rtpmap:98 H264/90000',
  'a=rtpmap:97 MPEG4/90000',
  'a=rtpmap:99 H265/90000',
  'a=setup:passive',
  'a=connection:new',
  'y=0200000123',
);

/** Live over TCP with the platform connecting (a=setup:active), no y= (the gateway picks the SSRC). */
const LIVE_TCP_PLATFORM_ACTIVE = sdp(
  'v=0',
  'o=34020000002000000001 0 0 IN IP4 10.0.0.5',
  's=Play',
  'c=IN IP4 10.0.0.5',
  't=0 0',
  'm=video 9 TCP/RTP/AVP 96',
  'a=recvonly',
  'a=rtpmap:96 PS/90000',
  'a=setup:active',
  'a=connection:new',
);

/** History playback: u= names the channel, t= the range in seconds since 1970, f= the wanted stream. */
const PLAYBACK = sdp(
  'v=0',
  'o=64010000002020000001 0 0 IN IP4 172.20.16.3',
  's=Playback',
  'u=64010000041310000345:0',
  'c=IN IP4 172.20.16.3',
  't=1288625085 1288625871',
  'm=video 6000 RTP/AVP 96 98 97',
  'a=recvonly',
  'a=rtpmap:96 PS/90000',
  'a=rtpmap:98 H264/90000',
  'a=rtpmap:97 MPEG4/90000',
  'y=1100000001',
  'f=v/2/4/25/1/4000a/1/8/1',
);

const DOWNLOAD = sdp(
  'v=0',
  'o=64010000002020000001 0 0 IN IP4 172.20.16.3',
  's=Download',
  'u=64010000041310000345:0',
  'c=IN IP4 172.20.16.3',
  't=1288625085 1288625871',
  'm=video 6000 RTP/AVP 96',
  'a=recvonly',
  'a=rtpmap:96 PS/90000',
  'a=downloadspeed:4',
  'y=1100000002',
);

function refusal(body: Buffer, contentType?: string): SdpRefusal {
  try {
    parseGbOffer(body, contentType);
  } catch (err) {
    if (err instanceof SdpRefusal) return err;
    throw err;
  }
  throw new Error('the offer was accepted');
}

describe('GB/T 28181 SDP offer', () => {
  it('reads a live UDP offer: address, port, formats, PS chosen, SSRC', () => {
    const offer = parseGbOffer(LIVE_UDP, 'application/sdp');
    expect(offer).toMatchObject({
      origin: { username: '64010000002020000001', address: '172.20.16.3' },
      sessionName: 'Play',
      address: '172.20.16.3',
      port: 6000,
      transport: 'udp',
      time: { start: 0, stop: 0 },
      ps: { payloadType: 96, encoding: 'PS', clockRate: 90_000 },
      ssrc: { text: '0100000001', value: 100_000_001, standard: true, kind: 'live' },
    });
    expect(offer.formats.map((f) => f.encoding)).toEqual(['PS', 'H264', 'MPEG4']);
  });

  it('maps the platform’s TCP setup role to the gateway’s (RFC 4145)', () => {
    expect(parseGbOffer(LIVE_TCP_PLATFORM_PASSIVE)).toMatchObject({ transport: 'tcp-active', port: 30_002, ssrc: { value: 200_000_123 } });
    const active = parseGbOffer(LIVE_TCP_PLATFORM_ACTIVE);
    expect(active).toMatchObject({ transport: 'tcp-passive', address: '10.0.0.5', ssrc: null });
  });

  it('reads playback and download: u=, t= range, f=, download speed', () => {
    const playback = parseGbOffer(PLAYBACK);
    expect(playback).toMatchObject({
      sessionName: 'Playback',
      uri: '64010000041310000345:0',
      time: { start: 1_288_625_085, stop: 1_288_625_871 },
      ssrc: { kind: 'history' },
      media: {
        video: { codec: '2', resolution: '4', fps: '25', rateType: '1', kbps: '4000' },
        audio: { codec: '1', kbps: '8', sampleRate: '1' },
      },
    });
    expect(parseGbOffer(DOWNLOAD)).toMatchObject({ sessionName: 'Download', downloadSpeed: 4 });
  });

  it('takes a media-level c= over the session-level one, and PT 96 without rtpmap as PS', () => {
    const text = LIVE_UDP.toString()
      .replace('m=video 6000 RTP/AVP 96 98 97\r\n', 'm=video 6000 RTP/AVP 96\r\nc=IN IP4 172.20.16.9\r\n')
      .replace('a=rtpmap:96 PS/90000\r\n', '');
    expect(parseGbOffer(text)).toMatchObject({ address: '172.20.16.9', ps: { payloadType: 96, encoding: 'PS' } });
  });

  it('reads the main/sub stream number in its 2022 and older spellings', () => {
    const withAttr = (attr: string) => Buffer.from(LIVE_UDP.toString().replace('a=recvonly\r\n', `a=recvonly\r\n${attr}\r\n`));
    expect(parseGbOffer(withAttr('a=streamnumber:1')).streamNumber).toBe(1);
    expect(parseGbOffer(withAttr('a=stream:0')).streamNumber).toBe(0);
    expect(parseGbOffer(withAttr('a=streamprofile:1')).streamNumber).toBe(1);
    expect(parseGbOffer(LIVE_UDP).streamNumber).toBeUndefined();
  });

  it('refuses what it cannot serve with a reason and the SIP status', () => {
    const h264Only = LIVE_UDP.toString().replace('RTP/AVP 96 98 97', 'RTP/AVP 98').replace('a=rtpmap:96 PS/90000\r\n', '');
    expect(refusal(Buffer.from(h264Only))).toMatchObject({ reason: 'no-ps-format', status: 488 });
    expect(refusal(Buffer.from(h264Only)).message).toMatch(/offered 98 H264\/90000: offer PS\/90000/);
    expect(refusal(LIVE_UDP, 'application/MANSCDP+xml')).toMatchObject({ reason: 'not-sdp', status: 415 });
    expect(refusal(Buffer.from(LIVE_UDP.toString().replace('RTP/AVP', 'RTP/SAVP')))).toMatchObject({
      reason: 'unsupported-transport',
      status: 488,
    });
    expect(refusal(Buffer.from(LIVE_UDP.toString().replace('a=recvonly', 'a=sendonly')))).toMatchObject({
      reason: 'unsupported-direction',
    });
    expect(refusal(Buffer.from(LIVE_UDP.toString().replace('s=Play', 's=Talk')))).toMatchObject({
      reason: 'bad-session-name',
      status: 488,
    });
    expect(refusal(Buffer.from(LIVE_UDP.toString().replace('m=video', 'm=audio')))).toMatchObject({ reason: 'no-video', status: 488 });
    expect(refusal(Buffer.from(LIVE_UDP.toString().replace('y=0100000001', 'y=0000000000')))).toMatchObject({
      reason: 'bad-ssrc',
      status: 400,
    });
    expect(refusal(Buffer.from(LIVE_UDP.toString().replace('m=video 6000', 'm=video 0')))).toMatchObject({
      reason: 'no-video',
      status: 488,
    });
  });

  it('rejects malformed bodies without crashing', () => {
    for (const body of ['', 'hello', 'v=0\r\nbroken line', 'v=0\r\ns=Play\r\nm=video 6000 RTP/AVP 96', 'v=0\r\no=x\r\n', '\u0000\u00ff'])
      expect(refusal(Buffer.from(body)).status).toBe(400);
    expect(refusal(Buffer.from(LIVE_UDP.toString().replace('6000', '70000'))).reason).toBe('malformed');
  });
});

describe('GB/T 28181 SDP answer', () => {
  const allocator = () => new SsrcAllocator('3402000000');

  it('answers UDP live with sendonly PS, the offered SSRC and f=', () => {
    const offer = parseGbOffer(LIVE_UDP);
    const ssrc = sessionSsrc(offer, allocator());
    const answer = buildGbAnswer({
      offer,
      deviceId: '34020000001320000001',
      address: '192.168.1.64',
      port: 15_060,
      ssrc,
      stream: { codec: 'h264', width: 1920, height: 1080, fps: 25 },
    });
    expect(answer).toBe(
      [
        'v=0',
        'o=34020000001320000001 0 0 IN IP4 192.168.1.64',
        's=Play',
        'c=IN IP4 192.168.1.64',
        't=0 0',
        'm=video 15060 RTP/AVP 96',
        'a=sendonly',
        'a=rtpmap:96 PS/90000',
        'y=0100000001',
        'f=v/2/6/25//a///',
        '',
      ].join('\r\n'),
    );
  });

  it('generates a fresh 10-digit SSRC when y= is absent, and names the listening port for TCP passive', () => {
    const offer = parseGbOffer(LIVE_TCP_PLATFORM_ACTIVE);
    const alloc = allocator();
    const first = sessionSsrc(offer, alloc);
    const second = sessionSsrc(offer, alloc);
    expect(first.text).toMatch(/^0\d{9}$/);
    expect(first.text).toBe('0200000001');
    expect(second.value).not.toBe(first.value);
    const answer = buildGbAnswer({ offer, deviceId: '34020000001320000001', address: '127.0.0.1', port: 40_001, ssrc: first });
    expect(answer).toContain('m=video 40001 TCP/RTP/AVP 96\r\n');
    expect(answer).toContain('a=setup:passive\r\na=connection:new\r\n');
    expect(answer).toContain('y=0200000001\r\nf=v/////a///\r\n');
  });

  it('says setup:active when the gateway connects out, port 9 when none is given', () => {
    const offer = parseGbOffer(LIVE_TCP_PLATFORM_PASSIVE);
    const answer = buildGbAnswer({ offer, deviceId: '34020000001320000001', address: '127.0.0.1', ssrc: sessionSsrc(offer, allocator()) });
    expect(answer).toContain('m=video 9 TCP/RTP/AVP 96\r\n');
    expect(answer).toContain('a=setup:active\r\n');
    expect(answer).toContain('y=0200000123\r\n');
  });

  it('answers playback with the offered range and a history SSRC when none was offered', () => {
    const offer = parseGbOffer(Buffer.from(PLAYBACK.toString().replace('y=1100000001\r\n', '')));
    const ssrc = sessionSsrc(offer, allocator());
    expect(ssrc.text).toBe('1200000001');
    const answer = buildGbAnswer({ offer, deviceId: '34020000001320000001', address: '127.0.0.1', port: 6000, ssrc });
    expect(answer).toContain('s=Playback\r\n');
    expect(answer).toContain('t=1288625085 1288625871\r\n');
  });

  it('writes other sizes as WxH and H.265 as codec 5', () => {
    expect(mediaDescriptionLine({ codec: 'h265', width: 640, height: 360, fps: 25 })).toBe('f=v/5/640x360/25//a///');
  });
});
