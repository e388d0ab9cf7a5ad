import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/errors.js';
import { formatGbId, gbIdPrefix, nextGbId, parseGbId, PROVINCE_CODES, validateGbId } from '../../../src/cameras/gbId.js';

describe('parseGbId', () => {
  it('splits a valid ID into its parts', () => {
    expect(parseGbId('34020000001320000001')).toEqual({
      ok: true,
      parts: { centerCode: '34020000', industryCode: '00', typeCode: '132', networkCode: '0', serial: '000001' },
    });
  });

  it.each([
    ['', /exactly 20 digits.*0 digits/],
    ['3402000000132000000', /exactly 20 digits.*19 digits/],
    ['340200000013200000011', /exactly 20 digits.*21 digits/],
    ['3402000000132000000a', /characters other than digits/],
    [' 34020000001320000001', /characters other than digits/],
    ['00020000001320000001', /first two digits \(00\).*province/],
    ['99020000001320000001', /first two digits \(99\).*province/],
    ['10020000001320000001', /first two digits \(10\)/],
  ])('refuses %j', (id, reason) => {
    const result = parseGbId(id);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it('knows all 34 province-level divisions from 11 to 82', () => {
    const codes = Object.keys(PROVINCE_CODES);
    expect(codes).toHaveLength(34);
    expect(codes).toContain('11');
    expect(codes).toContain('65');
    expect(codes).toContain('82');
    for (const code of codes) expect(parseGbId(`${code}010000001310000001`).ok).toBe(true);
  });
});

describe('validateGbId', () => {
  it.each(['11010000001310000001', '34020000001320000001', '44030500001325000123', '82000000001327999999'])(
    'accepts the camera ID %s',
    (id) => {
      expect(validateGbId(id)).toBeNull();
    },
  );

  it.each([
    ['34020000001180000001', /type code 118 \(digits 11–13\) is the code for NVR, not for a camera.*131.*132/],
    ['34020000002000000001', /type code 200.*central signalling/],
    ['34020000001110000001', /type code 111.*DVR/],
    ['34020000009990000001', /type code 999.*is not the code for a camera/],
    ['3402000000132000001', /exactly 20 digits/],
    ['90020000001320000001', /province/],
  ])('refuses %s', (id, message) => {
    expect(validateGbId(id)).toMatch(message);
  });
});

describe('formatGbId', () => {
  it('joins parts, padding a numeric serial', () => {
    expect(formatGbId({ centerCode: '34020000', industryCode: '00', typeCode: '131', networkCode: '0', serial: 7 })).toBe(
      '34020000001310000007',
    );
  });

  it('round-trips with parseGbId', () => {
    const id = '44030500001325000123';
    const parsed = parseGbId(id);
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(formatGbId(parsed.parts)).toBe(id);
  });

  it.each([
    [{ centerCode: '3402000', industryCode: '00', typeCode: '131', networkCode: '0', serial: 1 }, /centerCode must be 8 digits/],
    [{ centerCode: '34020000', industryCode: '0', typeCode: '131', networkCode: '0', serial: 1 }, /industryCode must be 2 digits/],
    [{ centerCode: '34020000', industryCode: '00', typeCode: '13x', networkCode: '0', serial: 1 }, /typeCode must be 3 digits/],
    [{ centerCode: '34020000', industryCode: '00', typeCode: '131', networkCode: '10', serial: 1 }, /networkCode must be 1 digit /],
    [{ centerCode: '34020000', industryCode: '00', typeCode: '131', networkCode: '0', serial: 1_000_000 }, /serial/],
    [{ centerCode: '34020000', industryCode: '00', typeCode: '131', networkCode: '0', serial: -1 }, /serial/],
  ])('refuses bad parts %#', (parts, message) => {
    expect(() => formatGbId(parts)).toThrow(message);
  });
});

describe('nextGbId', () => {
  const prefix = { regionCode: '34020000', industryCode: '00', typeCode: '132', networkCode: '0' };

  it('starts at serial 1 and follows the highest serial used', () => {
    expect(gbIdPrefix(prefix)).toBe('34020000001320');
    expect(nextGbId(prefix, 0)).toBe('34020000001320000001');
    expect(nextGbId(prefix, 41)).toBe('34020000001320000042');
    expect(nextGbId(prefix, 999_998)).toBe('34020000001320999999');
  });

  it('says when the serial space is exhausted', () => {
    try {
      nextGbId(prefix, 999_999);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(GatewayError);
      expect((err as GatewayError).code).toBe('CONFIG_INVALID');
      expect((err as GatewayError).message).toMatch(/no GB\/T 28181 serial left under prefix 34020000001320/);
      expect((err as GatewayError).hint).toMatch(/explicit/);
    }
  });

  it.each([
    [{ ...prefix, regionCode: '3402' }, /regionCode must be 8 digits/],
    [{ ...prefix, regionCode: '99020000' }, /province/],
    [{ ...prefix, networkCode: 'x' }, /networkCode/],
  ])('refuses a bad prefix %#', (bad, message) => {
    expect(() => nextGbId(bad, 0)).toThrow(message);
    try {
      nextGbId(bad, 0);
    } catch (err) {
      expect((err as GatewayError).code).toBe('CONFIG_INVALID');
    }
  });

  it('refuses a negative or fractional serial', () => {
    expect(() => nextGbId(prefix, -1)).toThrow(/non-negative integer/);
    expect(() => nextGbId(prefix, 1.5)).toThrow(/non-negative integer/);
  });
});
