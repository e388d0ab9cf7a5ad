/**
 * Incoming MANSCDP bodies (GB/T 28181-2016 §A.2, Application/MANSCDP+xml): the body is
 * decoded by its declared charset, parsed with fast-xml-parser, and typed by root element
 * and CmdType. Commands this gateway does not know come back as `unknown` so the caller can
 * refuse them with a status instead of ignoring them. Values stay strings: 20-digit IDs
 * would lose digits as numbers.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { decodeBody, type BodyCharset } from './charset.js';
import { decodePtzCmd, type DecodedPtzCmd } from './ptz.js';

export type ManscdpRoot = 'Query' | 'Control' | 'Notify' | 'Response';

interface Common {
  sn: string;
  deviceId: string;
  /** The charset the body arrived in: answer in the same one. */
  charset: BodyCharset;
}

/** Typed by `kind`; `root` and `cmdType` are kept as sent. */
export type ManscdpMessage =
  | (Common & { kind: 'keepalive'; root: 'Notify'; cmdType: 'Keepalive'; status?: string })
  | (Common & { kind: 'catalog'; root: 'Query'; cmdType: 'Catalog'; startTime?: string; endTime?: string })
  | (Common & { kind: 'deviceInfo'; root: 'Query'; cmdType: 'DeviceInfo' })
  | (Common & { kind: 'deviceStatus'; root: 'Query'; cmdType: 'DeviceStatus' })
  | (Common & { kind: 'recordInfo'; root: 'Query'; cmdType: 'RecordInfo'; query: RecordInfoQuery })
  | (Common & {
      kind: 'deviceControl';
      root: 'Control';
      cmdType: 'DeviceControl';
      /** The raw PTZCmd hex when present. */
      ptzCmdHex?: string;
      /** Decoded PTZCmd, or the reason it is invalid. */
      ptz?: DecodedPtzCmd | { error: string };
      /** Other control fields (TeleBoot, RecordCmd, GuardCmd, HomePosition, ...) as sent. */
      fields: Record<string, unknown>;
    })
  | (Common & { kind: 'unknown'; root: ManscdpRoot; cmdType: string; fields: Record<string, unknown> });

/** RecordInfo query fields (GB/T 28181-2016 Annex A.2.4, query commands: file directory search). */
export interface RecordInfoQuery {
  startTime: string;
  endTime: string;
  filePath?: string;
  address?: string;
  secrecy?: string;
  /** time, alarm, manual or all. */
  type?: string;
  recorderId?: string;
  indistinctQuery?: string;
}

export class ManscdpParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManscdpParseError';
  }
}

const parser = new XMLParser({
  parseTagValue: false,
  parseAttributeValue: false,
  ignoreDeclaration: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  trimValues: true,
  processEntities: true,
});

const ROOTS: ReadonlySet<string> = new Set(['Query', 'Control', 'Notify', 'Response']);

function text(fields: Record<string, unknown>, name: string): string | undefined {
  const v = fields[name];
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** Parses a MANSCDP body; throws ManscdpParseError (or CharsetError) on malformed input. */
export function parseManscdp(body: Buffer): ManscdpMessage {
  const { text: xml, charset } = decodeBody(body);
  // MANSCDP never declares a DTD; refusing one rules out entity-expansion tricks.
  if (/<!DOCTYPE/i.test(xml)) throw new ManscdpParseError('MANSCDP body must not carry a DOCTYPE');
  let doc: unknown;
  try {
    const valid = XMLValidator.validate(xml);
    if (valid !== true) throw new ManscdpParseError(`MANSCDP body is not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
    doc = parser.parse(xml);
  } catch (err) {
    if (err instanceof ManscdpParseError) throw err;
    throw new ManscdpParseError(`MANSCDP body is not well-formed XML: ${err instanceof Error ? err.message : String(err)}`);
  }
  const roots = Object.keys(doc as object).filter((k) => ROOTS.has(k));
  const root = roots[0] as ManscdpRoot | undefined;
  if (root === undefined || roots.length !== 1) throw new ManscdpParseError('MANSCDP body has no Query, Control, Notify or Response root');
  const rawFields = (doc as Record<string, unknown>)[root];
  const fields: Record<string, unknown> = typeof rawFields === 'object' && rawFields !== null ? (rawFields as Record<string, unknown>) : {};
  const cmdType = text(fields, 'CmdType');
  const sn = text(fields, 'SN');
  const deviceId = text(fields, 'DeviceID');
  if (cmdType === undefined || sn === undefined || deviceId === undefined) {
    throw new ManscdpParseError(`MANSCDP ${root} lacks CmdType, SN or DeviceID`);
  }
  const common: Common = { sn, deviceId, charset };
  const opt = (key: string, name: string): Record<string, string> => {
    const v = text(fields, name);
    return v === undefined ? {} : { [key]: v };
  };
  if (root === 'Notify' && cmdType === 'Keepalive') return { ...common, kind: 'keepalive', root, cmdType, ...opt('status', 'Status') };
  if (root === 'Query') {
    if (cmdType === 'Catalog')
      return { ...common, kind: 'catalog', root, cmdType, ...opt('startTime', 'StartTime'), ...opt('endTime', 'EndTime') };
    if (cmdType === 'DeviceInfo') return { ...common, kind: 'deviceInfo', root, cmdType };
    if (cmdType === 'DeviceStatus') return { ...common, kind: 'deviceStatus', root, cmdType };
    if (cmdType === 'RecordInfo') {
      const startTime = text(fields, 'StartTime');
      const endTime = text(fields, 'EndTime');
      if (startTime === undefined || endTime === undefined) throw new ManscdpParseError('RecordInfo query lacks StartTime or EndTime');
      const query: RecordInfoQuery = {
        startTime,
        endTime,
        ...opt('filePath', 'FilePath'),
        ...opt('address', 'Address'),
        ...opt('secrecy', 'Secrecy'),
        ...opt('type', 'Type'),
        ...opt('recorderId', 'RecorderID'),
        ...opt('indistinctQuery', 'IndistinctQuery'),
      };
      return { ...common, kind: 'recordInfo', root, cmdType, query };
    }
  }
  if (root === 'Control' && cmdType === 'DeviceControl') {
    const { CmdType: _c, SN: _s, DeviceID: _d, PTZCmd: _p, ...rest } = fields;
    const ptzCmdHex = text(fields, 'PTZCmd');
    if (ptzCmdHex === undefined) return { ...common, kind: 'deviceControl', root, cmdType, fields: rest };
    let ptz: DecodedPtzCmd | { error: string };
    try {
      ptz = decodePtzCmd(ptzCmdHex);
    } catch (err) {
      ptz = { error: err instanceof Error ? err.message : String(err) };
    }
    return { ...common, kind: 'deviceControl', root, cmdType, ptzCmdHex, ptz, fields: rest };
  }
  return { ...common, kind: 'unknown', root, cmdType, fields };
}
