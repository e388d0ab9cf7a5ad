import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { SipEndpoint } from '../../../../src/platform/gb28181/endpoint.js';
import { PlatformLink } from '../../../../src/platform/gb28181/platformLink.js';
import { buildRequest, type SipRequest } from '../../../../src/platform/gb28181/sip/message.js';

const SERVER = '34020000002000000001';

function link(): PlatformLink {
  // Requests are only answered here; nothing is sent, so the endpoint is never used.
  return new PlatformLink(
    {
      name: 'city',
      serverId: SERVER,
      serverDomain: '3402000000',
      host: '127.0.0.1',
      port: 15060,
      transport: 'udp',
      deviceId: '34020000001180000001',
      password: 'x',
      cameraIds: 'all',
      keepaliveSeconds: 60,
      registerExpiresSeconds: 3600,
    },
    {
      endpoint: {} as SipEndpoint,
      local: { host: '127.0.0.1', port: 5060 },
      cameras: () => Promise.resolve([]),
      online: () => true,
      logger: pino({ level: 'silent' }),
    },
  );
}

function message(method: string, body = '', from = SERVER): SipRequest {
  return buildRequest({
    method,
    uri: 'sip:34020000001180000001@3402000000',
    via: { transport: 'UDP', host: '127.0.0.1', port: 15060, branch: 'z9hG4bKt1' },
    from: `<sip:${from}@3402000000>;tag=1`,
    to: '<sip:34020000001180000001@3402000000>',
    callId: 'c1',
    cseq: 1,
    body: Buffer.from(body),
  });
}

function answer(l: PlatformLink, req: SipRequest): number | undefined {
  let status: number | undefined;
  l.handle(req, { transport: 'UDP', host: '127.0.0.1', port: 15060 }, (s) => (status = s));
  return status;
}

const xml = (root: string, cmd: string) =>
  `<?xml version="1.0" encoding="GB2312"?><${root}><CmdType>${cmd}</CmdType><SN>1</SN><DeviceID>34020000001180000001</DeviceID></${root}>`;

describe('PlatformLink requests', () => {
  it('owns requests from its platform ID only', () => {
    const l = link();
    const peer = { transport: 'UDP' as const, host: '10.0.0.9', port: 5060 };
    expect(l.owns(message('MESSAGE'), peer)).toBe(true);
    expect(l.owns(message('MESSAGE', '', '34020000002000000099'), peer)).toBe(false);
  });

  it('refuses unknown MANSCDP commands with 501, malformed bodies with 400, and other methods with 501', () => {
    const l = link();
    expect(answer(l, message('MESSAGE', xml('Query', 'ConfigDownloadX')))).toBe(501);
    expect(answer(l, message('MESSAGE', xml('Control', 'DeviceConfig')))).toBe(501);
    expect(answer(l, message('MESSAGE', '<Query><CmdType>Catalog</CmdType>'))).toBe(400);
    expect(answer(l, message('MESSAGE', '<?xml version="1.0" encoding="Shift_JIS"?><Query/>'))).toBe(415);
    expect(answer(l, message('INFO'))).toBe(501);
    expect(answer(l, message('OPTIONS'))).toBe(200);
  });
});
