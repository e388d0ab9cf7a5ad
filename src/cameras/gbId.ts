/**
 * GB/T 28181 device IDs: 20 decimal digits, laid out as
 *
 *   centre code (8) = province (2) + city (2) + district (2) + base unit (2)
 *   industry code (2) · type code (3) · network code (1) · serial (6)
 *
 * Pure functions: no I/O, no clock.
 */
import { GatewayError } from '../errors.js';

export interface GbIdParts {
  /** 8 digits: province, city, district, base unit (2 each). */
  centerCode: string;
  /** 2 digits. */
  industryCode: string;
  /** 3 digits, e.g. 131 camera, 132 IP camera, 118 NVR. */
  typeCode: string;
  /** 1 digit: 0–4 video private network, 5 public-security network, 6 government network, 7 internet, 8 social-resource network. */
  networkCode: string;
  /** 6 digits. */
  serial: string;
}

export type GbIdParseResult = { ok: true; parts: GbIdParts } | { ok: false; reason: string };

/** Province-level administrative division codes (GB/T 2260), first two digits of the centre code. */
export const PROVINCE_CODES: Readonly<Record<string, string>> = Object.freeze({
  '11': '北京市',
  '12': '天津市',
  '13': '河北省',
  '14': '山西省',
  '15': '内蒙古自治区',
  '21': '辽宁省',
  '22': '吉林省',
  '23': '黑龙江省',
  '31': '上海市',
  '32': '江苏省',
  '33': '浙江省',
  '34': '安徽省',
  '35': '福建省',
  '36': '江西省',
  '37': '山东省',
  '41': '河南省',
  '42': '湖北省',
  '43': '湖南省',
  '44': '广东省',
  '45': '广西壮族自治区',
  '46': '海南省',
  '50': '重庆市',
  '51': '四川省',
  '52': '贵州省',
  '53': '云南省',
  '54': '西藏自治区',
  '61': '陕西省',
  '62': '甘肃省',
  '63': '青海省',
  '64': '宁夏回族自治区',
  '65': '新疆维吾尔自治区',
  '71': '台湾省',
  '81': '香港特别行政区',
  '82': '澳门特别行政区',
});

/** Type codes a camera may carry. */
export const CAMERA_TYPE_CODES: Readonly<Record<string, string>> = Object.freeze({
  '131': 'camera (摄像机)',
  '132': 'IP camera (网络摄像机)',
});

/** Other type codes of GB/T 28181, named so that a refusal can say what the ID denotes. */
const OTHER_TYPE_CODES: Readonly<Record<string, string>> = {
  '111': 'DVR',
  '112': 'video server',
  '113': 'encoder',
  '114': 'decoder',
  '115': 'video switching matrix',
  '116': 'audio switching matrix',
  '117': 'alarm controller',
  '118': 'NVR',
  '119': 'hybrid video recorder',
  '133': 'display',
  '134': 'alarm input device',
  '135': 'alarm output device',
  '136': 'voice input device',
  '137': 'voice output device',
  '138': 'mobile transmission device',
  '139': 'other peripheral',
  '200': 'central signalling control server',
  '201': 'web application server',
  '202': 'media distribution server',
  '203': 'proxy server',
  '204': 'security server',
  '205': 'alarm server',
  '206': 'database server',
  '207': 'GIS server',
  '208': 'management server',
  '209': 'access gateway',
  '210': 'media storage server',
  '211': 'signalling security routing gateway',
  '215': 'business group',
  '216': 'virtual organisation',
  '300': 'central user',
  '400': 'terminal user',
};

const WIDTHS: ReadonlyArray<[keyof GbIdParts, number]> = [
  ['centerCode', 8],
  ['industryCode', 2],
  ['typeCode', 3],
  ['networkCode', 1],
  ['serial', 6],
];

export const GB_ID_MAX_SERIAL = 999_999;

const EXAMPLE_ID = '34020000001320000001';

/** Splits a 20-digit ID into its parts; checks the length, the digits and the province code. */
export function parseGbId(id: string): GbIdParseResult {
  if (typeof id !== 'string') return { ok: false, reason: 'a GB/T 28181 ID must be a string of 20 digits' };
  if (!/^\d{20}$/.test(id)) {
    const what = /^\d*$/.test(id) ? `${id.length} digits` : 'characters other than digits';
    return {
      ok: false,
      reason: `a GB/T 28181 ID must be exactly 20 digits (e.g. ${EXAMPLE_ID}), but "${id}" has ${what}`,
    };
  }
  const province = id.slice(0, 2);
  if (PROVINCE_CODES[province] === undefined) {
    return {
      ok: false,
      reason: `GB/T 28181 ID ${id}: the first two digits (${province}) are not a province-level code (valid: ${Object.keys(PROVINCE_CODES).join(', ')})`,
    };
  }
  return {
    ok: true,
    parts: {
      centerCode: id.slice(0, 8),
      industryCode: id.slice(8, 10),
      typeCode: id.slice(10, 13),
      networkCode: id.slice(13, 14),
      serial: id.slice(14, 20),
    },
  };
}

/** Validates an ID for a camera: null when valid, else a message that says what is wrong. */
export function validateGbId(id: string): string | null {
  const parsed = parseGbId(id);
  if (!parsed.ok) return parsed.reason;
  const { typeCode } = parsed.parts;
  if (CAMERA_TYPE_CODES[typeCode] === undefined) {
    const known = OTHER_TYPE_CODES[typeCode];
    const denotes = known === undefined ? 'is not the code for a camera' : `is the code for ${known}, not for a camera`;
    return `GB/T 28181 ID ${id}: type code ${typeCode} (digits 11–13) ${denotes} (a camera's ID carries 131 for a camera or 132 for an IP camera)`;
  }
  return null;
}

/** Joins parts into a 20-digit ID; throws VALIDATION_FAILED when a part has the wrong width or is not digits. */
export function formatGbId(parts: Omit<GbIdParts, 'serial'> & { serial: string | number }): string {
  const serial = typeof parts.serial === 'number' ? formatSerial(parts.serial) : parts.serial;
  const all: GbIdParts = { ...parts, serial };
  const problems: string[] = [];
  for (const [key, width] of WIDTHS) {
    const value = all[key];
    if (typeof value !== 'string' || value.length !== width || !/^\d+$/.test(value)) {
      problems.push(`${key} must be ${width} digit${width === 1 ? '' : 's'} (got "${String(value)}")`);
    }
  }
  if (problems.length > 0) {
    throw new GatewayError('VALIDATION_FAILED', `cannot form a GB/T 28181 ID: ${problems.join('; ')}`);
  }
  return WIDTHS.map(([key]) => all[key]).join('');
}

export interface GbIdPrefix {
  /** 8-digit centre code (province, city, district, base unit). */
  regionCode: string;
  industryCode: string;
  typeCode: string;
  networkCode: string;
}

/** The 14-digit prefix shared by every ID generated from these parts. */
export function gbIdPrefix(prefix: GbIdPrefix): string {
  const { regionCode, industryCode, typeCode, networkCode } = prefix;
  return formatGbId({ centerCode: regionCode, industryCode, typeCode, networkCode, serial: 0 }).slice(0, 14);
}

/**
 * The ID after `maxSerialUsed` under the given prefix. Throws CONFIG_INVALID when the
 * prefix is not a valid ID prefix or when all 999 999 serials are used.
 */
export function nextGbId(prefix: GbIdPrefix, maxSerialUsed: number): string {
  if (!Number.isInteger(maxSerialUsed) || maxSerialUsed < 0) {
    throw new GatewayError('VALIDATION_FAILED', `maxSerialUsed must be a non-negative integer (got ${maxSerialUsed})`);
  }
  const head = prefixOrConfigError(prefix);
  const next = maxSerialUsed + 1;
  if (next > GB_ID_MAX_SERIAL) {
    throw new GatewayError('CONFIG_INVALID', `no GB/T 28181 serial left under prefix ${head}: all ${GB_ID_MAX_SERIAL} serials are used`, {
      hint: 'Give the camera an explicit 20-digit id, or configure a different ID prefix (region, industry or network code).',
      details: { prefix: head },
    });
  }
  const id = head + formatSerial(next);
  const parsed = parseGbId(id);
  if (!parsed.ok)
    throw new GatewayError('CONFIG_INVALID', `the configured ID prefix ${head} is invalid: ${parsed.reason}`, {
      hint: PREFIX_HINT,
    });
  return id;
}

const PREFIX_HINT =
  'Set regionCode to the 8-digit centre code of the unit (province, city, district, base unit), industryCode to 2 digits, typeCode to 3 digits (131 or 132 for cameras) and networkCode to 1 digit.';

function prefixOrConfigError(prefix: GbIdPrefix): string {
  try {
    return gbIdPrefix(prefix);
  } catch (err) {
    const message = err instanceof Error ? err.message.replace('centerCode', 'regionCode') : String(err);
    throw new GatewayError('CONFIG_INVALID', `the configured ID prefix is invalid: ${message}`, {
      hint: PREFIX_HINT,
      cause: err,
    });
  }
}

function formatSerial(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > GB_ID_MAX_SERIAL) {
    throw new GatewayError('VALIDATION_FAILED', `a GB/T 28181 serial must be an integer from 0 to ${GB_ID_MAX_SERIAL} (got ${n})`);
  }
  return String(n).padStart(6, '0');
}
