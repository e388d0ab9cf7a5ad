import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { SipEndpoint } from '../../../../src/platform/gb28181/endpoint.js';
import { PlatformLink } from '../../../../src/platform/gb28181/platformLink.js';
import type { CatalogCamera } from '../../../../src/platform/gb28181/catalog.js';
import {
  buildRequest,
  buildResponse,
  getHeader,
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

describe('PlatformLink catalog subscription and alarms', () => {
  const cams: CatalogCamera[] = ['44030500001328000001', '44030500001328000002'].map((id) => ({
    id,
    name: `南门 ${id.slice(-1)}`,
    address: null,
    lat: 22.5,
    lon: 113.9,
    ownerUnit: null,
    enabled: true,
  }));
  const peer = { transport: 'UDP' as const, host: '127.0.0.1', port: 15060 };

  function setup(opts: { shared?: 'all' | string[] } = {}) {
    const sent: SipRequest[] = [];
    const endpoint = {
      request: (req: SipRequest): Promise<SipResponse> => {
        sent.push(req);
        return Promise.resolve(buildResponse(req, 200, 'OK'));
      },
    } as unknown as SipEndpoint;
    const offline = new Set<string>();
    const cameras = [...cams];
    const timers: { fn: () => void; ms: number; cleared: boolean }[] = [];
    const l = new PlatformLink(
      {
        name: 'city',
        serverId: SERVER,
        serverDomain: '3402000000',
        host: '127.0.0.1',
        port: 15060,
        transport: 'tcp', // one NOTIFY per change set (no UDP split)
        deviceId: '34020000001180000001',
        password: 'x',
        cameraIds: opts.shared ?? 'all',
        keepaliveSeconds: 60,
        registerExpiresSeconds: 3600,
      },
      {
        endpoint,
        local: { host: '127.0.0.1', port: 5060 },
        cameras: () => Promise.resolve(cameras),
        online: (id) => !offline.has(id),
        logger: pino({ level: 'silent' }),
        timers: {
          setTimeout: (fn, ms) => {
            const t = { fn, ms, cleared: false };
            timers.push(t);
            return t;
          },
          clearTimeout: (h) => void ((h as { cleared: boolean }).cleared = true),
        },
      },
    );
    const bodies = () => sent.map((r) => decodeBody(r.body).text);
    return { l, sent, bodies, offline, cameras, timers };
  }

  function subscribe(expires: string, opts: { event?: string; toTag?: string; callId?: string } = {}): SipRequest {
    const cmd = opts.event?.startsWith('Alarm') === true ? 'Alarm' : 'Catalog';
    const req = message('SUBSCRIBE', xml('Query', cmd).replace('<SN>1</SN>', '<SN>42</SN>'));
    req.headers = req.headers.map((h) =>
      h.name === 'Call-ID'
        ? { ...h, value: opts.callId ?? 'sub1' }
        : h.name === 'To' && opts.toTag !== undefined
          ? { ...h, value: `${h.value};tag=${opts.toTag}` }
          : h,
    );
    req.headers.push(
      { name: 'Event', value: opts.event ?? 'Catalog;id=1' },
      { name: 'Expires', value: expires },
      { name: 'Contact', value: `<sip:${SERVER}@127.0.0.1:15061>` },
    );
    return req;
  }

  function replyTo(l: PlatformLink, req: SipRequest): { status: number; toTag?: string; expires?: string } {
    let out: { status: number; toTag?: string; expires?: string } = { status: 0 };
    l.handle(req, peer, (status, _reason, opts) => {
      const expires = opts?.headers?.find((h) => h.name === 'Expires')?.value;
      out = { status, ...(opts?.toTag === undefined ? {} : { toTag: opts.toTag }), ...(expires === undefined ? {} : { expires }) };
    });
    return out;
  }

  it('answers a Catalog SUBSCRIBE 200 with Expires, then NOTIFYs the same items a query gets, in the dialog', async () => {
    const { l, sent, bodies } = setup();
    const ok = replyTo(l, subscribe('600'));
    expect(ok).toMatchObject({ status: 200, expires: '600' });
    expect(ok.toTag).toMatch(/.+/);
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    const notify = sent[0]!;
    expect(notify.method).toBe('NOTIFY');
    expect(notify.uri).toBe(`sip:${SERVER}@127.0.0.1:15061`);
    expect(getHeader(notify, 'Call-ID')).toBe('sub1');
    expect(getHeader(notify, 'Event')).toBe('Catalog;id=1');
    expect(getHeader(notify, 'Subscription-State')).toMatch(/^active;expires=(600|599)$/);
    expect(getHeader(notify, 'From')).toContain(`tag=${ok.toTag}`);
    expect(getHeader(notify, 'To')).toContain('tag=1');
    expect(bodies()[0]).toMatch(/<Notify>[\s\S]*<CmdType>Catalog<\/CmdType>\r\n<SN>42<\/SN>[\s\S]*<SumNum>2<\/SumNum>/);
    expect(bodies()[0]!.match(/<Event>ADD<\/Event>/g)).toHaveLength(2);
    // The query answers with the same items.
    expect(answer(l, message('MESSAGE', xml('Query', 'Catalog')))).toBe(200);
    await vi.waitFor(() => expect(sent).toHaveLength(2));
    const items = (text: string) =>
      [...text.matchAll(/<Item>([\s\S]*?)<\/Item>/g)].map((m) => m[1]!.replace(/<Event>ADD<\/Event>\r\n/, ''));
    expect(items(bodies()[1]!)).toEqual(items(bodies()[0]!));
    expect(l.snapshot().catalogSubscription).not.toBeNull();
  });

  it('tells the subscriber OFF, ON, ADD, DEL and UPDATE as they happen, in order', async () => {
    const { l, sent, bodies, offline, cameras } = setup();
    replyTo(l, subscribe('600'));
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    // Each change is read when its turn comes: a flap faster than that is one NOTIFY or none.
    offline.add('44030500001328000001');
    l.catalogChanged();
    await vi.waitFor(() => expect(sent).toHaveLength(2));
    offline.delete('44030500001328000001');
    l.catalogChanged();
    await vi.waitFor(() => expect(sent).toHaveLength(3));
    cameras.push({ ...cams[0]!, id: '44030500001328000003' });
    cameras.splice(1, 1);
    cameras[0] = { ...cameras[0]!, name: '北门' };
    l.catalogChanged();
    l.catalogChanged(); // nothing new: no NOTIFY
    await vi.waitFor(() => expect(sent).toHaveLength(4));
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toHaveLength(4);
    expect(bodies()[1]).toMatch(/<DeviceID>44030500001328000001<\/DeviceID>\r\n<Event>OFF<\/Event>/);
    expect(bodies()[2]).toMatch(/<DeviceID>44030500001328000001<\/DeviceID>\r\n<Event>ON<\/Event>/);
    expect(bodies()[3]).toMatch(/<DeviceID>44030500001328000001<\/DeviceID>\r\n<Event>UPDATE<\/Event>\r\n<Name>北门<\/Name>/);
    expect(bodies()[3]).toMatch(/<DeviceID>44030500001328000003<\/DeviceID>\r\n<Event>ADD<\/Event>/);
    expect(bodies()[3]).toMatch(/<DeviceID>44030500001328000002<\/DeviceID>\r\n<Event>DEL<\/Event>/);
    expect(sent.map((r) => Number(getHeader(r, 'CSeq')?.split(' ')[0]))).toEqual([1, 2, 3, 4]);
  });

  it('ends the subscription on Expires 0 in its dialog, and when it expires; refuses other events and unknown dialogs', async () => {
    const { l, sent, offline, timers } = setup();
    const ok = replyTo(l, subscribe('600'));
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    expect(replyTo(l, subscribe('600', { toTag: 'nope', callId: 'other' })).status).toBe(481);
    expect(replyTo(l, subscribe('0', { toTag: ok.toTag! }))).toMatchObject({ status: 200, expires: '0' });
    expect(l.snapshot().catalogSubscription).toBeNull();
    offline.add('44030500001328000001');
    l.catalogChanged();
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toHaveLength(1);

    // A new one that runs out.
    replyTo(l, subscribe('30', { callId: 'sub2' }));
    await vi.waitFor(() => expect(sent).toHaveLength(2));
    const expiry = timers.filter((t) => t.ms === 30_000 && !t.cleared);
    expect(expiry).toHaveLength(1);
    expiry[0]!.fn();
    expect(l.snapshot().catalogSubscription).toBeNull();
    offline.delete('44030500001328000001');
    l.catalogChanged();
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toHaveLength(2);

    expect(replyTo(l, subscribe('600', { event: 'MobilePosition' })).status).toBe(489);
    expect(replyTo(l, subscribe('soon')).status).toBe(400);
  });

  it('sends an Alarm MESSAGE while registered, for shared cameras only', async () => {
    const { l, sent, bodies } = setup({ shared: ['44030500001328000001'] });
    const spec = { priority: 1, method: 2, type: 1, description: '摄像机离线' } as const;
    l.alarm('44030500001328000001', spec, new Date('2026-12-05T23:00:00Z'));
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toHaveLength(0); // not registered yet
    l.state = 'registered';
    l.alarm('44030500001328000002', spec, new Date('2026-12-05T23:00:00Z'));
    l.alarm('44030500001328000001', spec, new Date('2026-12-05T23:00:00Z'));
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]!.method).toBe('MESSAGE');
    expect(bodies()[0]).toMatch(
      /<CmdType>Alarm<\/CmdType>\r\n<SN>\d+<\/SN>\r\n<DeviceID>44030500001328000001<\/DeviceID>\r\n<AlarmPriority>1<\/AlarmPriority>\r\n<AlarmMethod>2<\/AlarmMethod>\r\n<AlarmTime>2026-12-06T07:00:00<\/AlarmTime>\r\n<AlarmDescription>摄像机离线<\/AlarmDescription>/,
    );
    expect(l.snapshot().alarmsSent).toBe(1);
  });

  it('takes an Alarm SUBSCRIBE beside the catalog one: alarms then go as NOTIFY in its dialog, as MESSAGE again once it ends', async () => {
    const { l, sent, bodies } = setup();
    l.state = 'registered';
    const ok = replyTo(l, subscribe('600', { event: 'Alarm;id=7', callId: 'alarms' }));
    expect(ok).toMatchObject({ status: 200, expires: '600' });
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toHaveLength(0); // no initial NOTIFY for alarms
    const spec = { priority: 1, method: 2, type: 1, description: 'down' } as const;
    l.alarm('44030500001328000001', spec, new Date('2026-12-05T23:00:00Z'));
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]!.method).toBe('NOTIFY');
    expect(getHeader(sent[0]!, 'Call-ID')).toBe('alarms');
    expect(getHeader(sent[0]!, 'Event')).toBe('Alarm;id=7');
    expect(bodies()[0]).toMatch(/<CmdType>Alarm<\/CmdType>/);
    expect(l.snapshot().alarmSubscription).not.toBeNull();
    expect(l.snapshot().catalogSubscription).toBeNull();
    expect(replyTo(l, subscribe('0', { event: 'Alarm;id=7', callId: 'alarms', toTag: ok.toTag! })).status).toBe(200);
    l.alarm('44030500001328000001', spec, new Date('2026-12-05T23:00:00Z'));
    await vi.waitFor(() => expect(sent).toHaveLength(2));
    expect(sent[1]!.method).toBe('MESSAGE');
  });
});
