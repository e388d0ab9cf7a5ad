/**
 * Outgoing MANSCDP bodies (GB/T 28181-2016 Annex A.2.5 notify, A.2.6 response): Keepalive notify; Catalog
 * response, Catalog change notify and RecordInfo response, each split into messages that
 * fit a byte budget; DeviceInfo, DeviceStatus and Result-only responses. Encoded as
 * GB18030 by default; the declaration says GB2312 unless told otherwise, because that is
 * the label the 2016 edition's examples use and older platforms look for (GB18030 bytes
 * equal GB2312 bytes for every GB2312 character).
 */
import { encodeText, type BodyCharset } from './charset.js';

/** The Content-Type of MANSCDP bodies (GB/T 28181-2016 Annex A, MANSCDP). */
export const MANSCDP_CONTENT_TYPE = 'Application/MANSCDP+xml';

export interface BodyEncoding {
  /** Bytes written: GB18030 (default) or UTF-8. */
  charset?: BodyCharset;
  /** The XML declaration's label; default GB2312 for GB18030 and UTF-8 for UTF-8. */
  label?: string;
}

/** Escapes text for XML character data and attribute values (XML 1.0 §2.4). */
export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

type Field = readonly [name: string, value: string | number | undefined];

/** CmdType, SN and DeviceID: how every MANSCDP body starts (Annex A.2). */
function commandHead(cmdType: string, m: { sn: string | number; deviceId: string }): Field[] {
  return [
    ['CmdType', cmdType],
    ['SN', m.sn],
    ['DeviceID', m.deviceId],
  ];
}

/** `<Name>value</Name>` lines for the defined fields, in the given order. */
function elements(fields: readonly Field[]): string {
  return fields
    .filter((f): f is readonly [string, string | number] => f[1] !== undefined)
    .map(([n, v]) => `<${n}>${xmlEscape(String(v))}</${n}>\r\n`)
    .join('');
}

function document(root: string, inner: string, enc: BodyEncoding): Buffer {
  const charset = enc.charset ?? 'GB18030';
  const label = enc.label ?? (charset === 'GB18030' ? 'GB2312' : 'UTF-8');
  return encodeText(`<?xml version="1.0" encoding="${label}"?>\r\n<${root}>\r\n${inner}</${root}>\r\n`, charset);
}

export interface KeepaliveNotify {
  sn: string | number;
  deviceId: string;
  /** OK unless the device reports a fault (A.2.5, keepalive notify). */
  status?: 'OK' | 'ERROR';
  /** Devices with faults, listed in Info (A.2.5, keepalive notify). */
  faultDeviceIds?: string[];
}

export function buildKeepaliveNotify(k: KeepaliveNotify, enc: BodyEncoding = {}): Buffer {
  const faults =
    k.faultDeviceIds !== undefined && k.faultDeviceIds.length > 0
      ? `<Info>\r\n${k.faultDeviceIds.map((id) => elements([['DeviceID', id]])).join('')}</Info>\r\n`
      : '';
  return document('Notify', elements([...commandHead('Keepalive', k), ['Status', k.status ?? 'OK']]) + faults, enc);
}

/**
 * One catalog entry (A.2.6 catalog response, itemType; 2022 adds Info fields). A camera has
 * a 20-digit ID with type code 131/132; business groups (215) and virtual organisations
 * (216) carry only DeviceID, Name, ParentID and BusinessGroupID.
 */
export interface CatalogItem {
  deviceId: string;
  name: string;
  manufacturer?: string;
  model?: string;
  owner?: string;
  civilCode?: string;
  block?: string;
  address?: string;
  parental?: 0 | 1;
  parentId?: string;
  businessGroupId?: string;
  safetyWay?: number;
  registerWay?: number;
  secrecy?: 0 | 1;
  ipAddress?: string;
  port?: number;
  status?: 'ON' | 'OFF';
  longitude?: number;
  latitude?: number;
  /** Info fields (A.2.6 catalog item Info): PTZType 1 ball, 2 half-ball, 3 fixed, 4 remote-control fixed. */
  info?: { ptzType?: number; positionType?: number; roomType?: number; useType?: number; supplyLightType?: number };
}

/** An Item element; with `event` (Catalog NOTIFY) the Event follows the DeviceID. */
function catalogItemXml(item: CatalogItem, event?: CatalogEvent): string {
  const info = item.info;
  const infoXml =
    info !== undefined
      ? `<Info>\r\n${elements([
          ['PTZType', info.ptzType],
          ['PositionType', info.positionType],
          ['RoomType', info.roomType],
          ['UseType', info.useType],
          ['SupplyLightType', info.supplyLightType],
        ])}</Info>\r\n`
      : '';
  return `<Item>\r\n${elements([
    ['DeviceID', item.deviceId],
    ['Event', event],
    ['Name', item.name],
    ['Manufacturer', item.manufacturer],
    ['Model', item.model],
    ['Owner', item.owner],
    ['CivilCode', item.civilCode],
    ['Block', item.block],
    ['Address', item.address],
    ['Parental', item.parental],
    ['ParentID', item.parentId],
    ['BusinessGroupID', item.businessGroupId],
    ['SafetyWay', item.safetyWay],
    ['RegisterWay', item.registerWay],
    ['Secrecy', item.secrecy],
    ['IPAddress', item.ipAddress],
    ['Port', item.port],
    ['Status', item.status],
    ['Longitude', item.longitude],
    ['Latitude', item.latitude],
  ])}${infoXml}</Item>\r\n`;
}

/** How list responses are cut into messages. */
export interface SplitOptions extends BodyEncoding {
  sn: string | number;
  /** The gateway's (or queried) device ID the message is about. */
  deviceId: string;
  /** Largest body in bytes, default 1400 so one MESSAGE over UDP avoids fragmentation. */
  maxBytes?: number;
  /** Bytes kept free in that budget, e.g. for SIP headers the caller adds. */
  reserveBytes?: number;
  /** Most items per message (some platforms want a fixed count). */
  maxItemsPerMessage?: number;
}

export type CatalogResponseOptions = SplitOptions;

/** An item too large for the byte budget even alone: the caller can send over TCP instead. */
export class MessageSizeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MessageSizeError';
  }
}

/** A list-carrying document: Catalog response/notify, RecordInfo response. */
interface ListShape {
  root: 'Response' | 'Notify';
  cmdType: string;
  /** Fields between DeviceID and SumNum (RecordInfo's Name). */
  head?: readonly Field[];
  listTag: 'DeviceList' | 'RecordList';
}

/** The document around a list of `num` items, split where the items go. */
function listEnvelope(shape: ListShape, o: SplitOptions, sumNum: number, num: number): [Buffer, Buffer] {
  const head = elements([...commandHead(shape.cmdType, o), ...(shape.head ?? []), ['SumNum', sumNum]]);
  const marker = '\u0000';
  const whole = document(shape.root, `${head}<${shape.listTag} Num="${num}">\r\n${marker}</${shape.listTag}>\r\n`, o);
  const at = whole.lastIndexOf(0); // only fixed ASCII follows the marker
  return [whole.subarray(0, at), whole.subarray(at + 1)];
}

/**
 * List bodies: every message carries the same SumNum (the whole list) and its own list
 * Num; items are packed in order while the encoded body stays within maxBytes −
 * reserveBytes. An empty list is one message with Num="0". Both charsets are stateless,
 * so a body's size is its envelope's plus its items'.
 */
function splitList(shape: ListShape, o: SplitOptions, items: readonly { id: string; xml: string }[]): Buffer[] {
  const budget = (o.maxBytes ?? 1400) - (o.reserveBytes ?? 0);
  const perMessage = Math.max(1, o.maxItemsPerMessage ?? Number.MAX_SAFE_INTEGER);
  const sumNum = items.length;
  const envelope = (n: number): [Buffer, Buffer] => listEnvelope(shape, o, sumNum, n);
  const size = (n: number, itemBytes: number): number => envelope(n).reduce((s, b) => s + b.length, itemBytes);
  const finish = (batch: Buffer[]): Buffer => {
    const [before, after] = envelope(batch.length);
    return Buffer.concat([before, ...batch, after]);
  };
  if (sumNum === 0) return [finish([])];
  const out: Buffer[] = [];
  let batch: Buffer[] = [];
  let batchBytes = 0;
  for (const item of items) {
    const encoded = encodeText(item.xml, o.charset ?? 'GB18030');
    if (size(1, encoded.length) > budget) {
      throw new MessageSizeError(
        `${shape.cmdType} item ${item.id} needs ${size(1, encoded.length)} bytes alone, over the ${budget}-byte budget`,
      );
    }
    if (batch.length >= perMessage || size(batch.length + 1, batchBytes + encoded.length) > budget) {
      out.push(finish(batch));
      batch = [];
      batchBytes = 0;
    }
    batch.push(encoded);
    batchBytes += encoded.length;
  }
  out.push(finish(batch));
  return out;
}

/** Catalog response bodies (A.2.6), split as splitList describes. */
export function buildCatalogResponses(o: CatalogResponseOptions, items: readonly CatalogItem[]): Buffer[] {
  return splitList(
    { root: 'Response', cmdType: 'Catalog', listTag: 'DeviceList' },
    o,
    items.map((item) => ({ id: item.deviceId, xml: catalogItemXml(item) })),
  );
}

/** Catalog change events (A.2.5 catalog notify, with the 2022 event list). */
export type CatalogEvent = 'ON' | 'OFF' | 'VLOST' | 'DEFECT' | 'ADD' | 'DEL' | 'UPDATE';

/** ADD and UPDATE carry the whole item; the other events only the device ID. */
export type CatalogChange =
  { event: 'ADD' | 'UPDATE'; item: CatalogItem } | { event: Exclude<CatalogEvent, 'ADD' | 'UPDATE'>; deviceId: string };

/** Catalog NOTIFY bodies for state or shared-set changes, split like the response. */
export function buildCatalogNotifies(o: SplitOptions, changes: readonly CatalogChange[]): Buffer[] {
  return splitList(
    { root: 'Notify', cmdType: 'Catalog', listTag: 'DeviceList' },
    o,
    changes.map((c) =>
      'item' in c
        ? { id: c.item.deviceId, xml: catalogItemXml(c.item, c.event) }
        : {
            id: c.deviceId,
            xml: `<Item>\r\n${elements([
              ['DeviceID', c.deviceId],
              ['Event', c.event],
            ])}</Item>\r\n`,
          },
    ),
  );
}

/** One recording in a RecordInfo response (A.2.6, itemFileType). */
export interface RecordItem {
  deviceId: string;
  name: string;
  filePath?: string;
  address?: string;
  /** Local time as the standard writes it: 2026-12-05T08:00:00. */
  startTime: string;
  endTime: string;
  /** 0 not secret, 1 secret. */
  secrecy: 0 | 1;
  /** time, alarm or manual. */
  type: 'time' | 'alarm' | 'manual';
  recorderId?: string;
  /** Bytes, where known (2016 edition). */
  fileSize?: number;
}

export interface RecordInfoResponseOptions extends SplitOptions {
  /** The channel's name, echoed in the response head. */
  name: string;
}

/** RecordInfo response bodies (A.2.6): SumNum is the whole result, RecordList per message. */
export function buildRecordInfoResponses(o: RecordInfoResponseOptions, records: readonly RecordItem[]): Buffer[] {
  return splitList(
    { root: 'Response', cmdType: 'RecordInfo', head: [['Name', o.name]], listTag: 'RecordList' },
    o,
    records.map((r) => ({
      id: `${r.deviceId} ${r.startTime}`,
      xml: `<Item>\r\n${elements([
        ['DeviceID', r.deviceId],
        ['Name', r.name],
        ['FilePath', r.filePath],
        ['Address', r.address],
        ['StartTime', r.startTime],
        ['EndTime', r.endTime],
        ['Secrecy', r.secrecy],
        ['Type', r.type],
        ['RecorderID', r.recorderId],
        ['FileSize', r.fileSize],
      ])}</Item>\r\n`,
    })),
  );
}

export interface DeviceInfoResponse extends BodyEncoding {
  sn: string | number;
  deviceId: string;
  deviceName?: string;
  result?: 'OK' | 'ERROR';
  manufacturer?: string;
  model?: string;
  firmware?: string;
  /** Number of video input channels (A.2.6, device info response). */
  channel?: number;
}

export function buildDeviceInfoResponse(r: DeviceInfoResponse): Buffer {
  return document(
    'Response',
    elements([
      ...commandHead('DeviceInfo', r),
      ['DeviceName', r.deviceName],
      ['Result', r.result ?? 'OK'],
      ['Manufacturer', r.manufacturer],
      ['Model', r.model],
      ['Firmware', r.firmware],
      ['Channel', r.channel],
    ]),
    r,
  );
}

/**
 * ConfigDownload (A.2.4.7) answered with the device's basic parameters (BasicParam); the
 * other configuration types (video, audio, SVAC) are not kept by a gateway and are left out.
 */
export interface ConfigDownloadResponse extends BodyEncoding {
  sn: string | number;
  deviceId: string;
  name: string;
  /** Registration validity, heartbeat interval (seconds) and the heartbeats missed before offline. */
  expiration: number;
  heartBeatInterval: number;
  heartBeatCount: number;
  sipServerId: string;
  sipServerIp: string;
  sipServerPort: number;
  domainName: string;
}

export function buildConfigDownloadResponse(r: ConfigDownloadResponse): Buffer {
  const basic = elements([
    ['Name', r.name],
    ['DeviceID', r.deviceId],
    ['SIPServerID', r.sipServerId],
    ['SIPServerIP', r.sipServerIp],
    ['SIPServerPort', r.sipServerPort],
    ['DomainName', r.domainName],
    ['Expiration', r.expiration],
    ['HeartBeatInterval', r.heartBeatInterval],
    ['HeartBeatCount', r.heartBeatCount],
  ]);
  return document(
    'Response',
    `${elements([...commandHead('ConfigDownload', r), ['Result', 'OK']])}<BasicParam>\r\n${basic}</BasicParam>\r\n`,
    r,
  );
}

/** The result of a DeviceControl (A.2.6) or any command answered only with Result. */
export function buildResultResponse(
  r: { cmdType: string; sn: string | number; deviceId: string; result: 'OK' | 'ERROR' },
  enc: BodyEncoding = {},
): Buffer {
  return document('Response', elements([...commandHead(r.cmdType, r), ['Result', r.result]]), enc);
}

export interface DeviceStatusResponse extends BodyEncoding {
  sn: string | number;
  deviceId: string;
  result?: 'OK' | 'ERROR';
  online: boolean;
  /** Whether the device works normally (Status OK/ERROR); Reason says why not. */
  ok: boolean;
  reason?: string;
  encode?: boolean;
  record?: boolean;
  /** Local time, 2026-12-05T08:00:00. */
  deviceTime?: string;
}

/** DeviceStatus response (A.2.6), without the alarm status list. */
export function buildDeviceStatusResponse(r: DeviceStatusResponse): Buffer {
  const onOff = (v: boolean | undefined): string | undefined => (v === undefined ? undefined : v ? 'ON' : 'OFF');
  return document(
    'Response',
    elements([
      ...commandHead('DeviceStatus', r),
      ['Result', r.result ?? 'OK'],
      ['Online', r.online ? 'ONLINE' : 'OFFLINE'],
      ['Status', r.ok ? 'OK' : 'ERROR'],
      ['Reason', r.reason],
      ['Encode', onOff(r.encode)],
      ['Record', onOff(r.record)],
      ['DeviceTime', r.deviceTime],
    ]),
    r,
  );
}

/** MediaStatus notify (A.2.5): NotifyType 121 says a playback or download reached the end of its range. */
export function buildMediaStatusNotify(n: { sn: string | number; deviceId: string; notifyType?: '121' }, enc: BodyEncoding = {}): Buffer {
  return document('Notify', elements([...commandHead('MediaStatus', n), ['NotifyType', n.notifyType ?? '121']]), enc);
}

/**
 * An alarm notify (GB/T 28181-2016 A.2.5 alarm notify; 2022 §9.4): AlarmMethod 2 is a device
 * alarm (AlarmType 1 video loss), 5 a video alarm (AlarmType 11 video anomaly), 6 a device
 * fault. AlarmTime is local time without a zone, as the standard's examples write it.
 */
export interface AlarmNotify {
  sn: string | number;
  /** The alarming channel (the camera's 20-digit ID). */
  deviceId: string;
  /** 1 (most urgent) to 4. */
  priority: 1 | 2 | 3 | 4;
  method: 1 | 2 | 3 | 4 | 5 | 6 | 7;
  /** `YYYY-MM-DDTHH:mm:ss`. */
  time: string;
  description: string;
  type: number;
  longitude?: number;
  latitude?: number;
}

export function buildAlarmNotify(a: AlarmNotify, enc: BodyEncoding = {}): Buffer {
  return document(
    'Notify',
    elements([
      ...commandHead('Alarm', a),
      ['AlarmPriority', a.priority],
      ['AlarmMethod', a.method],
      ['AlarmTime', a.time],
      ['AlarmDescription', a.description],
      ['Longitude', a.longitude],
      ['Latitude', a.latitude],
    ]) + `<Info>\r\n${elements([['AlarmType', a.type]])}</Info>\r\n`,
    enc,
  );
}
