import { describe, expect, it } from 'vitest';
import { onboardRowsFromCsv, parseCsv } from '../../../src/onvif/csv.js';

describe('CSV', () => {
  it('reads quotes, doubled quotes, CRLF, a BOM and a last line without newline', () => {
    expect(parseCsv('\uFEFFa,b,c\r\n"x, y","say ""hi""",\n\n1,2,3')).toEqual([
      ['a', 'b', 'c'],
      ['x, y', 'say "hi"', ''],
      ['1', '2', '3'],
    ]);
  });

  it('refuses an unterminated quote', () => {
    expect(() => parseCsv('a\n"open')).toThrow(/ends inside a quoted field/);
  });

  it('maps columns (aliases, any case) to onboarding fields, with defaults for empty cells', () => {
    const rows = onboardRowsFromCsv(
      'Device,Site_Type,owner,lat,governmentFunded,password\n10.0.0.1,road,Unit A,31.5,yes,\n10.0.0.2,,,x,maybe,p2\n',
      {
        siteType: 'school_gate',
        password: 'shared',
      },
    );
    expect(rows[0]).toEqual({
      line: 2,
      request: { device: '10.0.0.1', siteType: 'road', ownerUnit: 'Unit A', lat: 31.5, governmentFunded: true, password: 'shared' },
    });
    expect(rows[1]?.line).toBe(3);
    expect(rows[1]?.request).toMatchObject({ device: '10.0.0.2', siteType: 'school_gate', password: 'p2' });
    expect(rows[1]?.problem).toBe('lat "x" is not a number; governmentFunded "maybe" is not yes/no');
  });

  it('refuses unknown columns, a file without a device column, and an empty file', () => {
    expect(() => onboardRowsFromCsv('device,colour\n1.2.3.4,red\n')).toThrow(/unknown CSV column\(s\): colour/);
    expect(() => onboardRowsFromCsv('name\nx\n')).toThrow(/no "device" column/);
    expect(() => onboardRowsFromCsv('')).toThrow(/empty/);
  });

  it('flags a row with more fields than the header', () => {
    expect(onboardRowsFromCsv('device\n1.2.3.4,extra\n')[0]?.problem).toBe('has 2 fields, the header 1');
  });
});
