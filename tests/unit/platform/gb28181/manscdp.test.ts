import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { CharsetError, decodeBody, declaredXmlEncoding } from '../../../../src/platform/gb28181/manscdp/charset.js';
import { PtzCmdError, decodePtzCmd, encodePtzCmd } from '../../../../src/platform/gb28181/manscdp/ptz.js';
import { ManscdpParseError, parseManscdp } from '../../../../src/platform/gb28181/manscdp/query.js';
import {
  MessageSizeError,
  buildCatalogNotifies,
  buildCatalogResponses,
  buildDeviceInfoResponse,
  buildDeviceStatusResponse,
  buildKeepaliveNotify,
  buildRecordInfoResponses,
  buildResultResponse,
  type CatalogItem,
} from '../../../../src/platform/gb28181/manscdp/response.js';

const GW = '34020000002000000001';

function body(xml: string, encoding: 'gb18030' | 'utf8' = 'gb18030'): Buffer {
  return iconv.encode(xml, encoding);
}

describe('MANSCDP body charset', () => {
  it('reads the declared encoding and decodes GB2312 as GB18030', () => {
    const xml = '<?xml version="1.0" encoding="GB2312"?>\r\n<Notify><Name>堃𠀀</Name></Notify>';
    expect(declaredXmlEncoding(body(xml))).toBe('GB2312');
    expect(decodeBody(body(xml))).toEqual({ text: xml, charset: 'GB18030' });
    const utf = xml.replace('GB2312', 'UTF-8');
    expect(decodeBody(body(utf, 'utf8'))).toEqual({ text: utf, charset: 'UTF-8' });
  });

  it('without a declaration takes UTF-8, or GB18030 when the bytes are not UTF-8', () => {
    const xml = '<Notify><Name>监控点</Name></Notify>';
    expect(decodeBody(body(xml, 'utf8')).charset).toBe('UTF-8');
    expect(decodeBody(body(xml, 'gb18030'))).toEqual({ text: xml, charset: 'GB18030' });
  });

  it('reads a body declared GB2312 but sent as UTF-8 Chinese as UTF-8, and says so', () => {
    const xml = '<?xml version="1.0" encoding="GB2312"?>\r\n<Notify><Name>东门摄像机 堃𠀀</Name></Notify>';
    expect(decodeBody(body(xml, 'utf8'))).toEqual({ text: xml, charset: 'UTF-8', mislabelled: true });
    // Honest GB18030 text, Chinese or ASCII only, stays GB18030.
    expect(decodeBody(body(xml, 'gb18030'))).toEqual({ text: xml, charset: 'GB18030' });
    const ascii = xml.replace('东门摄像机 堃𠀀', 'gate');
    expect(decodeBody(body(ascii, 'utf8'))).toEqual({ text: ascii, charset: 'GB18030' });
    // Common GB2312 characters whose bytes would pass as 2-byte UTF-8 stay with the declaration.
    const latinLike = Buffer.concat([
      Buffer.from('<?xml version="1.0" encoding="GB2312"?><a>'),
      Buffer.from([0xc3, 0xa1]),
      Buffer.from('</a>'),
    ]);
    expect(decodeBody(latinLike).charset).toBe('GB18030');
  });

  it('refuses an encoding it cannot read', () => {
    expect(() => decodeBody(Buffer.from('<?xml version="1.0" encoding="Shift_JIS"?><a/>'))).toThrow(CharsetError);
  });
});

describe('MANSCDP query parsing', () => {
  it('types a Catalog query and keeps 20-digit IDs as strings', () => {
    const m = parseManscdp(
      body(
        `<?xml version="1.0" encoding="GB2312"?>\r\n<Query>\r\n<CmdType>Catalog</CmdType>\r\n<SN>17430</SN>\r\n<DeviceID>${GW}</DeviceID>\r\n</Query>\r\n`,
      ),
    );
    expect(m).toEqual({ kind: 'catalog', root: 'Query', cmdType: 'Catalog', sn: '17430', deviceId: GW, charset: 'GB18030' });
  });

  it('types Keepalive, DeviceInfo, DeviceStatus and RecordInfo', () => {
    expect(
      parseManscdp(body(`<Notify><CmdType>Keepalive</CmdType><SN>1</SN><DeviceID>${GW}</DeviceID><Status>OK</Status></Notify>`)),
    ).toMatchObject({
      kind: 'keepalive',
      status: 'OK',
    });
    expect(parseManscdp(body(`<Query><CmdType>DeviceInfo</CmdType><SN>2</SN><DeviceID>${GW}</DeviceID></Query>`)).kind).toBe('deviceInfo');
    expect(parseManscdp(body(`<Query><CmdType>DeviceStatus</CmdType><SN>3</SN><DeviceID>${GW}</DeviceID></Query>`)).kind).toBe(
      'deviceStatus',
    );
    const r = parseManscdp(
      body(
        '<?xml version="1.0"?><Query><CmdType>RecordInfo</CmdType><SN>4</SN><DeviceID>34020000001320000001</DeviceID>' +
          '<StartTime>2026-12-05T00:00:00</StartTime><EndTime>2026-12-05T23:59:59</EndTime><Secrecy>0</Secrecy><Type>all</Type></Query>',
        'utf8',
      ),
    );
    expect(r).toMatchObject({
      kind: 'recordInfo',
      query: { startTime: '2026-12-05T00:00:00', endTime: '2026-12-05T23:59:59', secrecy: '0', type: 'all' },
    });
    expect(() => parseManscdp(body(`<Query><CmdType>RecordInfo</CmdType><SN>4</SN><DeviceID>${GW}</DeviceID></Query>`))).toThrow(
      /StartTime/,
    );
  });

  it('decodes a DeviceControl PTZCmd and reports a bad one without throwing', () => {
    const m = parseManscdp(
      body(
        `<Control><CmdType>DeviceControl</CmdType><SN>11</SN><DeviceID>34020000001320000001</DeviceID><PTZCmd>A50F010800FA00B7</PTZCmd><Info><ControlPriority>5</ControlPriority></Info></Control>`,
      ),
    );
    expect(m.kind).toBe('deviceControl');
    if (m.kind !== 'deviceControl') return;
    expect(m.ptz).toEqual({ address: 1, command: { kind: 'move', pan: 0, tilt: 1, zoom: 0, panSpeed: 0, tiltSpeed: 250, zoomSpeed: 0 } });
    expect(m.fields).toEqual({ Info: { ControlPriority: '5' } });
    const bad = parseManscdp(
      body(`<Control><CmdType>DeviceControl</CmdType><SN>12</SN><DeviceID>${GW}</DeviceID><PTZCmd>A50F010800FA00B8</PTZCmd></Control>`),
    );
    expect(bad.kind === 'deviceControl' && bad.ptz).toMatchObject({ error: expect.stringMatching(/checksum/) });
  });

  it('returns an unknown command as unknown, with its fields', () => {
    const m = parseManscdp(
      body(`<Query><CmdType>ConfigDownload</CmdType><SN>5</SN><DeviceID>${GW}</DeviceID><ConfigType>BasicParam</ConfigType></Query>`),
    );
    expect(m).toMatchObject({ kind: 'unknown', root: 'Query', cmdType: 'ConfigDownload', fields: { ConfigType: 'BasicParam' } });
  });

  const malformed: [string, string][] = [
    ['truncated XML', '<Query><CmdType>Catalog<'],
    ['no known root', '<Foo><CmdType>Catalog</CmdType><SN>1</SN><DeviceID>1</DeviceID></Foo>'],
    ['missing SN', `<Query><CmdType>Catalog</CmdType><DeviceID>${GW}</DeviceID></Query>`],
    ['not XML', 'hello'],
    ['empty', ''],
    ['a DOCTYPE', '<!DOCTYPE Query [<!ENTITY a "aaaa">]><Query><CmdType>&a;</CmdType><SN>1</SN><DeviceID>1</DeviceID></Query>'],
    ['a __proto__ element', `<Query><CmdType>Catalog</CmdType><SN>1</SN><DeviceID>${GW}</DeviceID><__proto__><x>1</x></__proto__></Query>`],
  ];
  it.each(malformed)('rejects %s with ManscdpParseError', (_n, xml) => {
    expect(() => parseManscdp(body(xml))).toThrow(ManscdpParseError);
  });
});

describe('MANSCDP parser robustness', () => {
  it('throws only its typed errors on byte flips and truncations of a valid body', () => {
    const good = body(
      `<?xml version="1.0" encoding="GB2312"?>\r\n<Query>\r\n<CmdType>Catalog</CmdType>\r\n<SN>1</SN>\r\n<DeviceID>${GW}</DeviceID>\r\n<Name>堃𠀀</Name>\r\n</Query>\r\n`,
    );
    const inputs: Buffer[] = [];
    for (let n = 0; n < good.length; n += 5) inputs.push(good.subarray(0, n));
    for (let i = 0; i < good.length; i += 2) {
      const flipped = Buffer.from(good);
      flipped[i] = (flipped[i] ?? 0) ^ 0x2f;
      inputs.push(flipped);
    }
    for (const input of inputs) {
      try {
        parseManscdp(input);
      } catch (err) {
        expect(err instanceof ManscdpParseError || err instanceof CharsetError).toBe(true);
      }
    }
  });
});

describe('PTZCmd (GB/T 28181-2016 Annex A.3)', () => {
  it('decodes stop, moves, zoom and presets, and re-encodes them byte for byte', () => {
    const cases: [string, unknown][] = [
      ['A50F0100000000B5', { kind: 'stop' }],
      ['A50F01011F0000D5', { kind: 'move', pan: 1, tilt: 0, zoom: 0, panSpeed: 0x1f, tiltSpeed: 0, zoomSpeed: 0 }],
      ['A50F01021F0000D6', { kind: 'move', pan: -1, tilt: 0, zoom: 0, panSpeed: 0x1f, tiltSpeed: 0, zoomSpeed: 0 }],
      ['A50F0104001000C9', { kind: 'move', pan: 0, tilt: -1, zoom: 0, panSpeed: 0, tiltSpeed: 0x10, zoomSpeed: 0 }],
      ['A50F0110000010D5', { kind: 'move', pan: 0, tilt: 0, zoom: 1, panSpeed: 0, tiltSpeed: 0, zoomSpeed: 1 }],
      ['A50F012000003005', { kind: 'move', pan: 0, tilt: 0, zoom: -1, panSpeed: 0, tiltSpeed: 0, zoomSpeed: 3 }],
      ['A50F01820003003A', { kind: 'preset', action: 'goto', index: 3 }],
      ['A50F0181000A0040', { kind: 'preset', action: 'set', index: 10 }],
      ['A50F0148000000FD', { kind: 'other', instruction: 0x48, data1: 0, data2: 0, data3: 0 }],
    ];
    for (const [hex, command] of cases) {
      const d = decodePtzCmd(hex);
      expect(d).toEqual({ address: 1, command });
      expect(encodePtzCmd(d.command, d.address)).toBe(hex);
    }
  });

  it('carries the 12-bit address across bytes 3 and 7', () => {
    const hex = encodePtzCmd({ kind: 'stop' }, 0x2ab);
    expect(hex.slice(4, 6)).toBe('AB');
    expect(decodePtzCmd(hex).address).toBe(0x2ab);
  });

  it('rejects wrong length, header or checksum', () => {
    expect(() => decodePtzCmd('A50F01')).toThrow(PtzCmdError);
    expect(() => decodePtzCmd('B50F0100000000C5')).toThrow(/A5/);
    expect(() => decodePtzCmd('A50F0100000000B6')).toThrow(/checksum/);
  });
});

describe('MANSCDP responses', () => {
  it('writes a Keepalive notify byte for byte, GB18030 declared as GB2312 by default', () => {
    const b = buildKeepaliveNotify({ sn: 44, deviceId: GW });
    expect(b.toString('latin1')).toBe(
      '<?xml version="1.0" encoding="GB2312"?>\r\n<Notify>\r\n<CmdType>Keepalive</CmdType>\r\n<SN>44</SN>\r\n' +
        `<DeviceID>${GW}</DeviceID>\r\n<Status>OK</Status>\r\n</Notify>\r\n`,
    );
    expect(parseManscdp(b)).toMatchObject({ kind: 'keepalive', sn: '44', status: 'OK' });
    const utf = buildKeepaliveNotify({ sn: 1, deviceId: GW }, { charset: 'UTF-8' });
    expect(utf.toString('utf8')).toContain('encoding="UTF-8"');
  });

  it('writes a DeviceInfo response with Chinese names that round-trip', () => {
    const b = buildDeviceInfoResponse({
      sn: '7',
      deviceId: GW,
      deviceName: '视频网关𠀀堃',
      manufacturer: 'PSV',
      model: 'psv-gateway',
      firmware: '0.1.0',
      channel: 3,
    });
    const text = iconv.decode(b, 'gb18030');
    expect(text).toContain('<DeviceName>视频网关𠀀堃</DeviceName>');
    expect(text).toContain('<Result>OK</Result>');
    expect(text).toContain('<Channel>3</Channel>');
    const m = parseManscdp(b);
    expect(m).toMatchObject({ kind: 'unknown', root: 'Response', cmdType: 'DeviceInfo' });
    expect(m.kind === 'unknown' && m.fields['DeviceName']).toBe('视频网关𠀀堃');
  });

  function camera(i: number, name = `摄像机${i}号 堃𠀀`): CatalogItem {
    return {
      deviceId: `3402000000132${String(i).padStart(7, '0')}`,
      name,
      manufacturer: 'Hikvision',
      model: 'DS-2CD',
      owner: 'Owner',
      civilCode: '340200',
      address: '合肥市 <路口> & "东"',
      parental: 0,
      parentId: GW,
      registerWay: 1,
      secrecy: 0,
      status: i % 2 === 0 ? 'ON' : 'OFF',
      longitude: 117.2272,
      latitude: 31.8206,
      info: { ptzType: 1 },
    };
  }

  it('splits a catalog into messages under the byte limit with a stable SumNum and right Num', () => {
    const items = Array.from({ length: 25 }, (_, i) => camera(i));
    const bodies = buildCatalogResponses({ sn: 9, deviceId: GW }, items);
    expect(bodies.length).toBeGreaterThan(1);
    const seen: string[] = [];
    for (const b of bodies) {
      expect(b.length).toBeLessThanOrEqual(1400);
      const m = parseManscdp(b);
      expect(m.kind).toBe('unknown');
      if (m.kind !== 'unknown') continue;
      expect(m.fields['SumNum']).toBe('25');
      const list = m.fields['DeviceList'] as {
        '@Num': string;
        Item: { DeviceID: string; Name: string; Address: string } | { DeviceID: string }[];
      };
      const arr = Array.isArray(list.Item) ? list.Item : [list.Item];
      expect(list['@Num']).toBe(String(arr.length));
      seen.push(...arr.map((it) => it.DeviceID));
    }
    expect(seen).toEqual(items.map((i) => i.deviceId));
    // Each message is as full as the limit allows: adding the next item would pass it.
    const first = parseManscdp(bodies[0] ?? Buffer.alloc(0));
    expect(first.kind === 'unknown' && (first.fields['DeviceList'] as { Item: unknown[] }).Item.length).toBeGreaterThan(1);
  });

  it('round-trips rare Chinese characters and escapes markup in item fields', () => {
    const [b] = buildCatalogResponses({ sn: 1, deviceId: GW, maxBytes: 65_000 }, [camera(1, '𠀀堃 北门')]);
    const text = iconv.decode(b ?? Buffer.alloc(0), 'gb18030');
    expect(text).toContain('<Name>𠀀堃 北门</Name>');
    expect(text).toContain('<Address>合肥市 &lt;路口&gt; &amp; &quot;东&quot;</Address>');
    const m = parseManscdp(b ?? Buffer.alloc(0));
    const item =
      m.kind === 'unknown'
        ? (m.fields['DeviceList'] as { Item: { Name: string; Address: string; Info: { PTZType: string } } }).Item
        : undefined;
    expect(item?.Name).toBe('𠀀堃 北门');
    expect(item?.Address).toBe('合肥市 <路口> & "东"');
    expect(item?.Info.PTZType).toBe('1');
  });

  it('honours items per message, reserved bytes, an empty catalog and UTF-8 output', () => {
    const items = Array.from({ length: 7 }, (_, i) => camera(i));
    const perTwo = buildCatalogResponses({ sn: 1, deviceId: GW, maxBytes: 65_000, maxItemsPerMessage: 2 }, items);
    expect(perTwo).toHaveLength(4);
    const reserved = buildCatalogResponses({ sn: 1, deviceId: GW, reserveBytes: 500 }, items);
    for (const b of reserved) expect(b.length).toBeLessThanOrEqual(900);
    const empty = buildCatalogResponses({ sn: 1, deviceId: GW }, []);
    expect(empty).toHaveLength(1);
    expect(empty[0]?.toString('latin1')).toContain('<SumNum>0</SumNum>\r\n<DeviceList Num="0">\r\n</DeviceList>');
    const utf = buildCatalogResponses({ sn: 1, deviceId: GW, charset: 'UTF-8', maxBytes: 65_000 }, [camera(3)]);
    expect(utf[0]?.toString('utf8')).toContain('摄像机3号 堃𠀀');
  });

  it('refuses an item that cannot fit the limit alone', () => {
    expect(() => buildCatalogResponses({ sn: 1, deviceId: GW, maxBytes: 400 }, [camera(1)])).toThrow(MessageSizeError);
  });

  it('packs 500 cameras quickly, every message under the limit', () => {
    const items = Array.from({ length: 500 }, (_, i) => camera(i));
    const started = performance.now();
    const bodies = buildCatalogResponses({ sn: 1, deviceId: GW }, items);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(bodies.every((b) => b.length <= 1400)).toBe(true);
    const total = bodies.reduce((n, b) => {
      const m = parseManscdp(b);
      return n + Number(m.kind === 'unknown' ? (m.fields['DeviceList'] as { '@Num': string })['@Num'] : 0);
    }, 0);
    expect(total).toBe(500);
  });

  it('writes Catalog change notifies: ON/OFF/DEL with the ID only, ADD/UPDATE with the whole item', () => {
    const [b] = buildCatalogNotifies({ sn: 3, deviceId: GW, maxBytes: 65_000 }, [
      { event: 'OFF', deviceId: '34020000001320000001' },
      { event: 'ADD', item: camera(2, '新增 堃') },
    ]);
    const text = iconv.decode(b ?? Buffer.alloc(0), 'gb18030');
    expect(text).toContain(
      '<Notify>\r\n<CmdType>Catalog</CmdType>\r\n<SN>3</SN>\r\n<DeviceID>34020000002000000001</DeviceID>\r\n<SumNum>2</SumNum>\r\n<DeviceList Num="2">\r\n' +
        '<Item>\r\n<DeviceID>34020000001320000001</DeviceID>\r\n<Event>OFF</Event>\r\n</Item>\r\n' +
        '<Item>\r\n<DeviceID>34020000001320000002</DeviceID>\r\n<Event>ADD</Event>\r\n<Name>新增 堃</Name>\r\n',
    );
  });

  it('writes RecordInfo responses split under the limit with Name, SumNum and RecordList Num', () => {
    const records = Array.from({ length: 12 }, (_, i) => ({
      deviceId: '34020000001320000001',
      name: '东门 堃',
      startTime: `2026-12-05T${String(i).padStart(2, '0')}:00:00`,
      endTime: `2026-12-05T${String(i).padStart(2, '0')}:59:59`,
      secrecy: 0 as const,
      type: 'time' as const,
      fileSize: 1024 * i,
    }));
    const bodies = buildRecordInfoResponses({ sn: 8, deviceId: '34020000001320000001', name: '东门 堃' }, records);
    expect(bodies.length).toBeGreaterThan(1);
    let count = 0;
    for (const b of bodies) {
      expect(b.length).toBeLessThanOrEqual(1400);
      const m = parseManscdp(b);
      if (m.kind !== 'unknown') throw new Error('a Response parses as unknown');
      expect(m.cmdType).toBe('RecordInfo');
      expect(m.fields['Name']).toBe('东门 堃');
      expect(m.fields['SumNum']).toBe('12');
      const list = m.fields['RecordList'] as { '@Num': string; Item: unknown[] | unknown };
      const n = Array.isArray(list.Item) ? list.Item.length : 1;
      expect(list['@Num']).toBe(String(n));
      count += n;
    }
    expect(count).toBe(12);
    expect(iconv.decode(bodies[0] ?? Buffer.alloc(0), 'gb18030')).toContain(
      '<Item>\r\n<DeviceID>34020000001320000001</DeviceID>\r\n<Name>东门 堃</Name>\r\n<StartTime>2026-12-05T00:00:00</StartTime>\r\n' +
        '<EndTime>2026-12-05T00:59:59</EndTime>\r\n<Secrecy>0</Secrecy>\r\n<Type>time</Type>\r\n<FileSize>0</FileSize>\r\n</Item>',
    );
  });

  it('writes DeviceStatus and Result-only responses byte for byte', () => {
    expect(
      buildDeviceStatusResponse({ sn: 5, deviceId: GW, online: true, ok: false, reason: '离线', encode: true, record: false }).equals(
        iconv.encode(
          '<?xml version="1.0" encoding="GB2312"?>\r\n<Response>\r\n<CmdType>DeviceStatus</CmdType>\r\n<SN>5</SN>\r\n' +
            `<DeviceID>${GW}</DeviceID>\r\n<Result>OK</Result>\r\n<Online>ONLINE</Online>\r\n<Status>ERROR</Status>\r\n` +
            '<Reason>离线</Reason>\r\n<Encode>ON</Encode>\r\n<Record>OFF</Record>\r\n</Response>\r\n',
          'gb18030',
        ),
      ),
    ).toBe(true);
    expect(buildResultResponse({ cmdType: 'DeviceControl', sn: 11, deviceId: GW, result: 'ERROR' }).toString('latin1')).toBe(
      '<?xml version="1.0" encoding="GB2312"?>\r\n<Response>\r\n<CmdType>DeviceControl</CmdType>\r\n<SN>11</SN>\r\n' +
        `<DeviceID>${GW}</DeviceID>\r\n<Result>ERROR</Result>\r\n</Response>\r\n`,
    );
  });
});
