import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { SipEndpoint } from '../../../../src/platform/gb28181/endpoint.js';
import { PlatformLink, type PlatformLinkDeps } from '../../../../src/platform/gb28181/platformLink.js';
import { encodePtzCmd } from '../../../../src/platform/gb28181/manscdp/ptz.js';
import type { PtzCommandEvent } from '../../../../src/platform/gb28181/ptzControl.js';
import type { PtzAction, PtzCapability } from '../../../../src/domain/index.js';
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

function link(
  transport: 'udp' | 'tcp' = 'udp',
  endpoint: SipEndpoint = {} as SipEndpoint,
  cameras: CatalogCamera[] = [],
  extra: Partial<PlatformLinkDeps> = {},
): PlatformLink {
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
      ...extra,
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

  it('tells an OPTIONS every method it serves', () => {
    let allow: string | undefined;
    link().handle(message('OPTIONS'), { transport: 'UDP', host: '127.0.0.1', port: 15060 }, (_s, _r, o) => {
      allow = o?.headers?.find((h) => h.name === 'Allow')?.value;
    });
    expect(allow?.split(', ').sort()).toEqual(['ACK', 'BYE', 'CANCEL', 'INFO', 'INVITE', 'MESSAGE', 'NOTIFY', 'OPTIONS', 'SUBSCRIBE']);
  });

  it('answers ConfigDownload of BasicParam with its registration and keepalive settings; other types alone are refused 488', async () => {
    const sent: string[] = [];
    const endpoint = {
      request: (req: SipRequest): Promise<SipResponse> => {
        sent.push(decodeBody(req.body).text);
        return Promise.resolve(buildResponse(req, 200, 'OK'));
      },
    } as unknown as SipEndpoint;
    const l = link('udp', endpoint);
    const query = (types: string) =>
      `<?xml version="1.0" encoding="GB2312"?><Query><CmdType>ConfigDownload</CmdType><SN>77</SN><DeviceID>34020000001180000001</DeviceID><ConfigType>${types}</ConfigType></Query>`;
    expect(answer(l, message('MESSAGE', query('VideoParamOpt')))).toBe(488);
    expect(answer(l, message('MESSAGE', query('BasicParam/VideoParamOpt')))).toBe(200);
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]).toMatch(
      /<CmdType>ConfigDownload<\/CmdType>\r\n<SN>77<\/SN>\r\n<DeviceID>34020000001180000001<\/DeviceID>\r\n<Result>OK<\/Result>/,
    );
    expect(sent[0]).toMatch(/<BasicParam>[\s\S]*<SIPServerID>34020000002000000001<\/SIPServerID>[\s\S]*<\/BasicParam>/);
    expect(sent[0]).toMatch(/<HeartBeatCount>3<\/HeartBeatCount>/);
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

describe('PlatformLink PTZ (DeviceControl PTZCmd)', () => {
  const DOME = '44030500001328000001';
  const FIXED = '44030500001328000002';
  const UNSHARED = '44030500001328000003';
  const cam = (id: string): CatalogCamera => ({ id, name: id, address: null, lat: null, lon: null, ownerUnit: null, enabled: true });
  const control = (channel: string, ptzCmd: string) =>
    `<?xml version="1.0" encoding="GB2312"?><Control><CmdType>DeviceControl</CmdType><SN>17</SN><DeviceID>${channel}</DeviceID><PTZCmd>${ptzCmd}</PTZCmd></Control>`;
  const left = encodePtzCmd({ kind: 'move', pan: -1, tilt: 0, zoom: 0, panSpeed: 255, tiltSpeed: 0, zoomSpeed: 0 });

  function setup() {
    const sent: string[] = [];
    const events: PtzCommandEvent[] = [];
    const runs: Array<[string, PtzAction]> = [];
    const endpoint = {
      request: async (req: SipRequest): Promise<SipResponse> => {
        sent.push(decodeBody(req.body).text);
        return buildResponse(req, 200, 'OK');
      },
    } as unknown as SipEndpoint;
    const dome: PtzCapability = { kind: 'dome', profileToken: 'main', maxPresets: 255, home: true };
    const l = new PlatformLink(
      {
        name: 'city',
        serverId: SERVER,
        serverDomain: '3402000000',
        host: '127.0.0.1',
        port: 15060,
        transport: 'udp',
        deviceId: '34020000001180000001',
        password: 'x',
        cameraIds: [DOME, FIXED],
        keepaliveSeconds: 60,
        registerExpiresSeconds: 3600,
      },
      {
        endpoint,
        local: { host: '127.0.0.1', port: 5060 },
        cameras: () => Promise.resolve([cam(DOME), cam(FIXED), cam(UNSHARED)]),
        online: () => true,
        logger: pino({ level: 'silent' }),
        ptz: {
          capabilities: async () => new Map([[DOME, dome]]),
          run: async (id, action) => {
            runs.push([id, action]);
            return id === DOME ? { outcome: 'ok' } : { outcome: 'refused', reason: 'the camera has no PTZ' };
          },
        },
        onPtzCommand: (e) => events.push(e),
      },
    );
    const send = async (body: string): Promise<number> => {
      let status = 0;
      l.handle(message('MESSAGE', body), { transport: 'UDP', host: '127.0.0.1', port: 15060 }, (s) => (status = s));
      await vi.waitFor(() => expect(status).not.toBe(0), { timeout: 5000 });
      return status;
    };
    return { l, sent, events, runs, send };
  }

  it('answers 200, moves the camera, and sends the DeviceControl Response with Result OK', async () => {
    const t = setup();
    expect(await t.send(control(DOME, left))).toBe(200);
    await vi.waitFor(() => expect(t.sent).toHaveLength(1), { timeout: 5000 });
    expect(t.runs).toEqual([[DOME, { kind: 'move', x: -1, y: 0, zoom: 0 }]]);
    expect(t.sent[0]).toMatch(
      /<Response>[\s\S]*<CmdType>DeviceControl<\/CmdType>\s*<SN>17<\/SN>\s*<DeviceID>44030500001328000001<\/DeviceID>\s*<Result>OK<\/Result>/,
    );
    expect(t.events).toEqual([
      { platform: 'city', cameraId: DOME, command: left, action: { kind: 'move', x: -1, y: 0, zoom: 0 }, outcome: 'ok', reason: null },
    ]);
  });

  it('answers Result ERROR for a shared camera without PTZ, and refuses unshared channels, bad PTZCmd and unsupported instructions', async () => {
    const t = setup();
    expect(await t.send(control(FIXED, left))).toBe(200);
    await vi.waitFor(() => expect(t.sent).toHaveLength(1), { timeout: 5000 });
    expect(t.sent[0]).toContain('<Result>ERROR</Result>');
    expect(t.events[0]).toMatchObject({ cameraId: FIXED, outcome: 'refused', reason: 'the camera has no PTZ' });

    expect(await t.send(control(UNSHARED, left))).toBe(404);
    expect(await t.send(control('44030500001328000099', left))).toBe(404);
    expect(await t.send(control(DOME, 'A50F0000000000B5'))).toBe(400);
    const focus = encodePtzCmd({ kind: 'other', instruction: 0x41, data1: 1, data2: 0, data3: 0 });
    expect(await t.send(control(DOME, focus))).toBe(501);
    expect(t.runs).toHaveLength(1);
    expect(t.sent).toHaveLength(1);
    expect(t.events.map((e) => [e.cameraId, e.outcome])).toEqual([
      [FIXED, 'refused'],
      [UNSHARED, 'refused'],
      ['44030500001328000099', 'refused'],
      [DOME, 'refused'],
      [DOME, 'refused'],
    ]);
    expect(t.events[1]?.reason).toMatch(/not shared/);
    expect(t.events[3]?.reason).toMatch(/checksum/);
    expect(t.events[4]?.reason).toMatch(/no ONVIF equivalent/);
  });
});

describe('PlatformLink RecordInfo', () => {
  const CAMERA = '44030500001328000001';
  const camera: CatalogCamera = {
    id: CAMERA,
    name: '南山区科技园南门',
    address: '科技南路',
    lat: null,
    lon: null,
    ownerUnit: null,
    enabled: true,
  };
  const day = new Date(2026, 11, 5).getTime();
  const HOUR = 3_600_000;
  // 60 runs of three 2-second segments, an hour apart: each run one item.
  const segments = Array.from({ length: 60 }, (_, run) =>
    [0, 1, 2].map((i) => ({ startMs: day + run * HOUR + i * 2000, endMs: day + run * HOUR + (i + 1) * 2000, partial: false })),
  ).flat();

  function recordLink(sent: Buffer[], asked: [number, number][]): PlatformLink {
    const endpoint = {
      request: (req: SipRequest): Promise<SipResponse> => {
        sent.push(serializeSipMessage(req));
        return Promise.resolve(buildResponse(req, 200, 'OK'));
      },
    } as unknown as SipEndpoint;
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
        cameraIds: [CAMERA],
        keepaliveSeconds: 60,
        registerExpiresSeconds: 3600,
      },
      {
        endpoint,
        local: { host: '127.0.0.1', port: 5060 },
        cameras: () => Promise.resolve([camera, { ...camera, id: '44030500001328000002', name: 'not shared' }]),
        online: () => true,
        logger: pino({ level: 'silent' }),
        footage: {
          segments: (_id, fromMs, toMs) => {
            asked.push([fromMs, toMs]);
            return Promise.resolve(segments.filter((s) => s.endMs > fromMs && s.startMs < toMs) as never);
          },
          open: () => Promise.resolve(null),
        },
      },
    );
  }

  const query = (deviceId: string, start: string, end: string, extra = '') =>
    `<?xml version="1.0" encoding="GB2312"?><Query><CmdType>RecordInfo</CmdType><SN>9</SN><DeviceID>${deviceId}</DeviceID>` +
    `<StartTime>${start}</StartTime><EndTime>${end}</EndTime>${extra}</Query>`;
  const bodies = (sent: Buffer[]) => sent.map((b) => decodeBody(b.subarray(b.indexOf('\r\n\r\n') + 4)).text);

  it('lists each recorded run of the range once, split over MESSAGEs under the UDP limit with the same SumNum', async () => {
    const sent: Buffer[] = [];
    const asked: [number, number][] = [];
    const rl = recordLink(sent, asked);
    expect(answer(rl, message('MESSAGE', query(CAMERA, '2026-12-05T00:00:00', '2026-12-06T00:00:00')))).toBe(200);
    await vi.waitFor(() => expect(bodies(sent).flatMap((t) => t.match(/<Item>/g) ?? []).length).toBe(24), { timeout: 5000 });
    expect(asked).toEqual([[day, day + 24 * HOUR]]);
    expect(sent.length).toBeGreaterThan(2);
    for (const b of sent) expect(b.length).toBeLessThanOrEqual(1400);
    const texts = bodies(sent);
    for (const t of texts) expect(t).toContain('<SumNum>24</SumNum>');
    const starts = texts.flatMap((t) => [...t.matchAll(/<StartTime>([^<]+)<\/StartTime>/g)].map((m) => m[1]));
    expect(starts).toEqual(Array.from({ length: 24 }, (_, h) => `2026-12-05T${String(h).padStart(2, '0')}:00:00`));
    expect(texts[0]).toMatch(
      /<DeviceID>44030500001328000001<\/DeviceID>\r\n<Name>南山区科技园南门<\/Name>\r\n<FilePath>[^<]+<\/FilePath>\r\n<Address>科技南路<\/Address>\r\n<StartTime>2026-12-05T00:00:00<\/StartTime>\r\n<EndTime>2026-12-05T00:00:06<\/EndTime>\r\n<Secrecy>0<\/Secrecy>\r\n<Type>time<\/Type>\r\n<RecorderID>34020000001180000001<\/RecorderID>/,
    );
  });

  it('clips runs to the range; an unshared channel or alarm recordings get an empty list; a bad time is refused 400', async () => {
    const sent: Buffer[] = [];
    const rl = recordLink(sent, []);
    expect(answer(rl, message('MESSAGE', query(CAMERA, '2026-12-05T00:00:03', '2026-12-05T00:00:05')))).toBe(200);
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    expect(bodies(sent)[0]).toMatch(/<StartTime>2026-12-05T00:00:03<\/StartTime>\r\n<EndTime>2026-12-05T00:00:05<\/EndTime>/);
    for (const q of [
      query('44030500001328000002', '2026-12-05T00:00:00', '2026-12-06T00:00:00'),
      query(CAMERA, '2026-12-05T00:00:00', '2026-12-06T00:00:00', '<Type>alarm</Type>'),
    ]) {
      sent.length = 0;
      expect(answer(rl, message('MESSAGE', q))).toBe(200);
      await vi.waitFor(() => expect(sent).toHaveLength(1));
      expect(bodies(sent)[0]).toMatch(/<SumNum>0<\/SumNum>\r\n<RecordList Num="0">/);
    }
    expect(answer(rl, message('MESSAGE', query(CAMERA, 'today', '2026-12-06T00:00:00')))).toBe(400);
    expect(answer(rl, message('MESSAGE', query(CAMERA, '2026-12-06T00:00:00', '2026-12-05T00:00:00')))).toBe(400);
  });
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
