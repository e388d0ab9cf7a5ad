/**
 * Outgoing MANSCDP bodies (GB/T 28181-2016 §A.2.5, §A.2.6): Keepalive notify, Catalog
 * response split into messages that fit a byte budget, DeviceInfo response. Encoded as
 * GB18030 by default; the declaration says GB2312 unless told otherwise, because that is
 * the label the 2016 edition's examples use and older platforms look for (GB18030 bytes
 * equal GB2312 bytes for every GB2312 character).
 */
import { encodeText, type BodyCharset } from './charset.js';

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
  sn: number;
  deviceId: string;
  /** OK unless the device reports a fault (§A.2.5.2). */
  status?: 'OK' | 'ERROR';
  /** Devices with faults, listed in Info (2016 §A.2.5.2). */
  faultDeviceIds?: string[];
}

export function buildKeepaliveNotify(k: KeepaliveNotify, enc: BodyEncoding = {}): Buffer {
  const faults =
    k.faultDeviceIds !== undefined && k.faultDeviceIds.length > 0
      ? `<Info>\r\n${k.faultDeviceIds.map((id) => elements([['DeviceID', id]])).join('')}</Info>\r\n`
      : '';
  return document(
    'Notify',
    elements([
      ['CmdType', 'Keepalive'],
      ['SN', k.sn],
      ['DeviceID', k.deviceId],
      ['Status', k.status ?? 'OK'],
    ]) + faults,
    enc,
  );
}

/**
 * One catalog entry (§A.2.6.4 itemType; 2022 edition adds fields under Info). A camera has
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
  /** Info fields (§A.2.6.4 Info): PTZType 1 ball, 2 half-ball, 3 fixed, 4 remote-control fixed. */
  info?: { ptzType?: number; positionType?: number; roomType?: number; useType?: number; supplyLightType?: number };
}

function catalogItemXml(item: CatalogItem): string {
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

export interface CatalogResponseOptions extends BodyEncoding {
  sn: string | number;
  /** The gateway's (or queried) device ID the response is for. */
  deviceId: string;
  /** Largest body in bytes, default 1400 so one MESSAGE over UDP avoids fragmentation. */
  maxBytes?: number;
  /** Bytes kept free in that budget, e.g. for SIP headers the caller adds. */
  reserveBytes?: number;
  /** Most items per message (some platforms want a fixed count). */
  maxItemsPerMessage?: number;
}

export class CatalogSizeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CatalogSizeError';
  }
}

/** The Response document around a DeviceList of `num` items, split where the items go. */
function catalogEnvelope(o: CatalogResponseOptions, sumNum: number, num: number): [Buffer, Buffer] {
  const head = elements([
    ['CmdType', 'Catalog'],
    ['SN', o.sn],
    ['DeviceID', o.deviceId],
    ['SumNum', sumNum],
  ]);
  const marker = '\u0000';
  const whole = document('Response', `${head}<DeviceList Num="${num}">\r\n${marker}</DeviceList>\r\n`, o);
  const at = whole.lastIndexOf(0); // only fixed ASCII follows the marker
  return [whole.subarray(0, at), whole.subarray(at + 1)];
}

/**
 * Catalog response bodies: every message carries the same SumNum (the whole list) and its
 * own DeviceList Num; items are packed in order while the encoded body stays within
 * maxBytes − reserveBytes. An empty catalog is one message with Num="0". An item that
 * cannot fit even alone raises CatalogSizeError (the caller can use TCP instead).
 * Both charsets are stateless, so a body's size is its envelope's plus its items'.
 */
export function buildCatalogResponses(o: CatalogResponseOptions, items: readonly CatalogItem[]): Buffer[] {
  const budget = (o.maxBytes ?? 1400) - (o.reserveBytes ?? 0);
  const perMessage = Math.max(1, o.maxItemsPerMessage ?? Number.MAX_SAFE_INTEGER);
  const sumNum = items.length;
  const envelope = (n: number): [Buffer, Buffer] => catalogEnvelope(o, sumNum, n);
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
    const encoded = encodeText(catalogItemXml(item), o.charset ?? 'GB18030');
    if (size(1, encoded.length) > budget) {
      throw new CatalogSizeError(
        `catalog item ${item.deviceId} needs ${size(1, encoded.length)} bytes alone, over the ${budget}-byte budget`,
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

export interface DeviceInfoResponse extends BodyEncoding {
  sn: string | number;
  deviceId: string;
  deviceName?: string;
  result?: 'OK' | 'ERROR';
  manufacturer?: string;
  model?: string;
  firmware?: string;
  /** Number of video input channels (§A.2.6.5). */
  channel?: number;
}

export function buildDeviceInfoResponse(r: DeviceInfoResponse): Buffer {
  return document(
    'Response',
    elements([
      ['CmdType', 'DeviceInfo'],
      ['SN', r.sn],
      ['DeviceID', r.deviceId],
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
