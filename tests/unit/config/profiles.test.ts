import { describe, expect, it } from 'vitest';
import { SITE_TYPE_INFO, isSiteType } from '../../../src/domain/index.js';
import { GatewayError } from '../../../src/errors.js';
import {
  DOCUMENT_IDS,
  PROFILES,
  PROFILE_NAMES,
  getProfile,
  type JurisdictionProfile,
  type ProfileName,
} from '../../../src/config/profiles.js';

const strict = PROFILES.strict;
const others = PROFILE_NAMES.filter((n) => n !== 'strict').map((n) => PROFILES[n]);
const all = PROFILE_NAMES.map((n) => PROFILES[n]);

/** A citation names its source and an article, or says the source sets nothing. */
const CITATION = /^(strict: )?(hubei-2013|qingdao-2020|zhuzhou-2023|yunnan-2016|guangdong-2025)(: not (set|required)| Art\. \d+)/;

function citations(p: JurisdictionProfile): string[] {
  return [
    p.retentionDays.source,
    p.importantRetentionDays.source,
    p.minStaffForAccess.source,
    p.requiredDocuments.source,
    p.registrationFields.source,
    p.watermarkExports.source,
    p.desensitizeShared.source,
    p.reportEveryOutage.source,
    p.filingDeadlineDays.source,
    ...p.forbiddenSiteTypes.flatMap((f) => f.sources),
  ];
}

describe('jurisdiction profiles', () => {
  it('has the six profiles, strict first', () => {
    expect(PROFILE_NAMES).toEqual(['strict', 'hubei', 'qingdao', 'zhuzhou', 'yunnan', 'guangdong']);
    for (const name of PROFILE_NAMES) expect(PROFILES[name].name).toBe(name);
  });

  it.each(PROFILE_NAMES)('%s cites an article or says the source is silent, for every rule', (name) => {
    const p = PROFILES[name];
    expect(citations(p).filter((c) => !CITATION.test(c))).toEqual([]);
    if (name !== 'strict') expect(citations(p).every((c) => c.startsWith(p.sourceId ?? '?'))).toBe(true);
  });

  it('matches the values of the regulations', () => {
    const row = (n: ProfileName) => {
      const p = PROFILES[n];
      return [p.retentionDays.value, p.importantRetentionDays.value, p.minStaffForAccess.value, p.filingDeadlineDays.value];
    };
    expect(row('hubei')).toEqual([15, 731, 2, 30]);
    expect(row('qingdao')).toEqual([30, null, 2, 30]);
    expect(row('zhuzhou')).toEqual([30, null, null, null]);
    expect(row('yunnan')).toEqual([15, null, 2, 30]);
    expect(row('guangdong')).toEqual([null, 731, 2, null]);
    expect(row('strict')).toEqual([30, 731, 2, 30]);
  });

  describe('strict is at least as strict as each profile', () => {
    it.each(others.map((p) => [p.name, p] as const))('%s', (_name, p) => {
      const atLeast = (s: number | null, o: number | null) => o === null || (s !== null && s >= o);
      expect(atLeast(strict.retentionDays.value, p.retentionDays.value)).toBe(true);
      expect(atLeast(strict.importantRetentionDays.value, p.importantRetentionDays.value)).toBe(true);
      expect(atLeast(strict.minStaffForAccess.value, p.minStaffForAccess.value)).toBe(true);
      // A shorter filing deadline is the stricter one.
      const f = p.filingDeadlineDays.value;
      expect(f === null || (strict.filingDeadlineDays.value !== null && strict.filingDeadlineDays.value <= f)).toBe(true);
      for (const flag of ['watermarkExports', 'desensitizeShared', 'reportEveryOutage'] as const) {
        expect(!p[flag].value || strict[flag].value).toBe(true);
      }
      expect(strict.requiredDocuments.value).toEqual(expect.arrayContaining([...p.requiredDocuments.value, ...p.requiredDocuments.anyOf]));
      expect(strict.registrationFields.value).toEqual(expect.arrayContaining([...p.registrationFields.value]));
      const strictSites = strict.forbiddenSiteTypes.map((f) => f.siteType);
      expect(strictSites).toEqual(expect.arrayContaining(p.forbiddenSiteTypes.map((f) => f.siteType)));
    });
  });

  it('strict asks for every document and cites every source article for each forbidden site', () => {
    expect([...strict.requiredDocuments.value].sort()).toEqual([...DOCUMENT_IDS].sort());
    for (const f of strict.forbiddenSiteTypes) {
      const expected = others.flatMap((p) => p.forbiddenSiteTypes.filter((o) => o.siteType === f.siteType).flatMap((o) => o.sources));
      expect(f.sources).toEqual(expected);
    }
  });

  it.each(PROFILE_NAMES)('%s forbids only private site types of the catalogue, each with a citation, once', (name) => {
    const sites = PROFILES[name].forbiddenSiteTypes;
    for (const f of sites) {
      expect(isSiteType(f.siteType)).toBe(true);
      expect(SITE_TYPE_INFO[f.siteType].privateSpace).toBe(true);
      expect(f.sources.length).toBeGreaterThan(0);
    }
    expect(new Set(sites.map((f) => f.siteType)).size).toBe(sites.length);
    expect(sites.map((f) => f.siteType)).toContain('private_space');
  });

  it('every private site type is forbidden somewhere', () => {
    const forbidden = new Set(strict.forbiddenSiteTypes.map((f) => f.siteType));
    const privates = Object.values(SITE_TYPE_INFO)
      .filter((i) => i.privateSpace)
      .map((i) => i.id);
    expect(privates.filter((id) => !forbidden.has(id))).toEqual([]);
  });

  it('is frozen, so no component can change another one’s rules', () => {
    expect(Object.isFrozen(PROFILES.hubei)).toBe(true);
    expect(Object.isFrozen(PROFILES.hubei.forbiddenSiteTypes)).toBe(true);
    expect(() => ((PROFILES.hubei.retentionDays as { value: number }).value = 1)).toThrow(TypeError);
  });

  it('getProfile finds a profile and refuses an unknown name', () => {
    expect(all.map((p) => getProfile(p.name))).toEqual(all);
    expect(() => getProfile('beijing')).toThrow(GatewayError);
    expect(() => getProfile('beijing')).toThrow(/Unknown jurisdiction profile 'beijing'/);
  });
});
