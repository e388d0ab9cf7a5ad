import { describe, expect, it } from 'vitest';
import { SITE_TYPES, SITE_TYPE_INFO, isSiteType } from '../../../src/domain/index.js';
import { PROFILES, PROFILE_NAMES, type ProfileName } from '../../../src/config/profiles.js';
import { checkSite } from '../../../src/privacy/siteGuard.js';

const forbiddenIn = (siteType: string): ProfileName[] => PROFILE_NAMES.filter((n) => checkSite(PROFILES[n], siteType).forbidden);

describe('privacy site guard', () => {
  it.each([
    ['hotel_guest_room', [...PROFILE_NAMES]],
    ['dormitory_room', [...PROFILE_NAMES]],
    ['public_bath', [...PROFILE_NAMES]],
    ['toilet', [...PROFILE_NAMES]],
    ['changing_room', [...PROFILE_NAMES]],
    ['private_space', [...PROFILE_NAMES]],
    ['nursing_room', [...PROFILE_NAMES]],
    ['fitting_room', [...PROFILE_NAMES]],
    ['ktv_private_room', ['strict', 'yunnan']],
    ['financial_client_position', ['strict', 'hubei', 'yunnan']],
    ['ballot_box_area', ['strict', 'hubei', 'yunnan']],
    ['road', []],
    ['school_gate', []],
    ['hotel_lobby', []],
    ['bank_hall', []],
  ])('%s is forbidden in %j', (siteType, profiles) => {
    expect(forbiddenIn(siteType)).toEqual(profiles);
  });

  it('cites the forbidding article', () => {
    expect(checkSite(PROFILES.yunnan, 'ktv_private_room').citations).toEqual(['yunnan-2016 Art. 11(1)']);
    expect(checkSite(PROFILES.hubei, 'ballot_box_area').citations).toEqual(['hubei-2013 Art. 8(5)']);
    expect(checkSite(PROFILES.qingdao, 'hotel_guest_room').citations).toEqual(['qingdao-2020 Art. 9 ¶1']);
    expect(checkSite(PROFILES.zhuzhou, 'nursing_room').citations).toEqual(['zhuzhou-2023 Art. 8(3)']);
    expect(checkSite(PROFILES.guangdong, 'dormitory_room').citations).toEqual(['guangdong-2025 Art. 7']);
  });

  it('strict cites every source that forbids the place', () => {
    const v = checkSite(PROFILES.strict, 'hotel_guest_room');
    expect(v.citations).toEqual([
      'hubei-2013 Art. 8(1)',
      'qingdao-2020 Art. 9 ¶1',
      'zhuzhou-2023 Art. 8(1)',
      'yunnan-2016 Art. 11(1)',
      'guangdong-2025 Art. 7',
    ]);
  });

  it('a forbidden verdict says what, where, why and what to do', () => {
    const v = checkSite(PROFILES.yunnan, 'ktv_private_room');
    expect(v).toMatchObject({ forbidden: true, siteType: 'ktv_private_room' });
    for (const part of [
      '娱乐场所包房',
      'entertainment private room',
      "'yunnan'",
      'yunnan-2016 Art. 11(1)',
      'may not be installed',
      'correct site type',
    ]) {
      expect(v.message).toContain(part);
    }
  });

  it('an allowed verdict has no citations and no message', () => {
    expect(checkSite(PROFILES.hubei, 'ktv_private_room')).toEqual({ forbidden: false, siteType: 'ktv_private_room', citations: [] });
    expect(checkSite(PROFILES.strict, 'intersection')).toEqual({ forbidden: false, siteType: 'intersection', citations: [] });
  });

  it('refuses a site type the catalogue does not know, listing the valid ones', () => {
    const v = checkSite(PROFILES.hubei, 'hotel_room');
    expect(v.forbidden).toBe(true);
    expect(v.citations).toEqual([]);
    expect(v.message).toContain("Unknown site type 'hotel_room'");
    expect(v.message).toContain('hotel_guest_room');
  });

  it('allows every public site type under every profile', () => {
    const publicTypes = SITE_TYPES.filter((t) => !SITE_TYPE_INFO[t].privateSpace);
    expect(publicTypes.length).toBeGreaterThan(20);
    for (const t of publicTypes) expect(forbiddenIn(t)).toEqual([]);
  });
});

describe('site type catalogue', () => {
  it('describes every type in both languages under its own id', () => {
    for (const t of SITE_TYPES) {
      const info = SITE_TYPE_INFO[t];
      expect(info.id).toBe(t);
      expect(info.zh).toMatch(/\p{Script=Han}/u);
      expect(info.en).toMatch(/^[a-z]/);
    }
    expect(new Set(SITE_TYPES).size).toBe(SITE_TYPES.length);
  });

  it('isSiteType tells catalogue ids from other strings', () => {
    expect(isSiteType('toilet')).toBe(true);
    expect(isSiteType('Toilet')).toBe(false);
    expect(isSiteType('__proto__')).toBe(false);
  });
});
