import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { SipEndpoint } from '../../../../src/platform/gb28181/endpoint.js';
import { PlatformLink } from '../../../../src/platform/gb28181/platformLink.js';
import type { CatalogCamera } from '../../../../src/platform/gb28181/catalog.js';
import {
  buildRequest,
  buildResponse,
  serializeSipMessage,
  type SipRequest,
  type SipResponse,
} from '../../../../src/platform/gb28181/sip/message.js';
import { decodeBody } from '../../../../src/platform/gb28181/manscdp/charset.js';

const SERVER = '34020000002000000001';

function link(transport: 'udp' | 'tcp' = 'udp', endpoint: SipEndpoint = {} as SipEndpoint, cameras: CatalogCamera[] = []): PlatformLink {
  // Requests are only answered here; nothing is sent, so the endpoint is never used.
  return new PlatformLink(
    {
      name: 'city',
      serverId: SERVER,
      serverDomain: '3402000000',
      host: '127.0.0.1',
      port: 15060,
      transport,
      deviceId: '34020000001180000001',
      password: 'x',
      cameraIds: 'all',
      keepaliveSeconds: 60,
      registerExpiresSeconds: 3600,
    },
    {
      endpoint,
      local: { host: '127.0.0.1', port: 5060 },
      cameras: () => Promise.resolve(cameras),
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

describe('PlatformLink catalog', () => {
  const cameras = Array.from({ length: 500 }, (_, i): CatalogCamera => ({
    id: `440305000013280${String(i + 1).padStart(5, '0')}`,
    name: `南山区科技园南门卡口 ${i + 1} 号`,
    address: `深圳市南山区科技南路 ${i + 1} 号`,
    lat: 22.5,
    lon: 113.9,
    ownerUnit: '南山分局',
    enabled: true,
  }));

  for (const transport of ['udp', 'tcp'] as const) {
    it(`answers a 500-camera catalog over ${transport}: every camera once, SumNum 500, each MESSAGE within the limit, one at a time`, async () => {
      const sent: Buffer[] = [];
      let inFlight = 0;
      let maxInFlight = 0;
      const endpoint = {
        request: async (req: SipRequest): Promise<SipResponse> => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          sent.push(serializeSipMessage(req));
          await Promise.resolve();
          inFlight--;
          return buildResponse(req, 200, 'OK');
        },
      } as unknown as SipEndpoint;
      const l = link(transport, endpoint, cameras);
      expect(answer(l, message('MESSAGE', xml('Query', 'Catalog')))).toBe(200);
      await vi.waitFor(
        () =>
          expect(
            sent
              .map((b) => decodeBody(b.subarray(b.indexOf('\r\n\r\n') + 4)).text.match(/<Item>/g)?.length ?? 0)
              .reduce((a, n) => a + n, 0),
          ).toBe(500),
        { timeout: 10_000 },
      );
      const bodies = sent.map((b) => decodeBody(b.subarray(b.indexOf('\r\n\r\n') + 4)).text);
      const ids = bodies.flatMap((t) => [...t.matchAll(/<Item>\s*<DeviceID>(\d{20})/g)].map((m) => m[1]));
      expect(new Set(ids).size).toBe(500);
      for (const t of bodies) expect(t).toContain('<SumNum>500</SumNum>');
      const limit = transport === 'udp' ? 1400 : 65_535;
      for (const b of sent) expect(b.length).toBeLessThanOrEqual(limit);
      if (transport === 'udp') expect(sent.length).toBeGreaterThan(100);
      else expect(sent.length).toBeLessThan(20);
      expect(maxInFlight).toBe(1);
    });
  }
});
