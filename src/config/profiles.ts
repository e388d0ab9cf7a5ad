import { GatewayError } from '../errors.js';
import type { Role, SiteType } from '../domain/index.js';

/**
 * Jurisdiction profiles: what each regulation asks of a gateway, as data. Every value
 * carries the article it comes from, so a report or an error can quote it. Article
 * numbers are those of the Chinese originals (第N条 = Art. N, 第N条第（M）项 = Art. N(M),
 * 第N条第K款 = Art. N ¶K).
 *
 * `null` means the source sets no such rule; the gateway then applies no minimum of its
 * own beyond what other components always do (e.g. the outage ledger is always kept).
 */

export const PROFILE_NAMES = ['strict', 'hubei', 'qingdao', 'zhuzhou', 'yunnan', 'guangdong'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

/** A value and the article that sets it. */
export interface Cited<T> {
  readonly value: T;
  readonly source: string;
}

/** Documents a person viewing, copying or retrieving footage must show. */
export const DOCUMENT_IDS = [
  'work_id', // 工作证件
  'enforcement_certificate', // 行政执法证件
  'police_approval', // 公安机关批准文件
  'unit_certificate', // 单位证明文件
  'registration', // 履行登记手续
] as const;
export type DocumentId = (typeof DOCUMENT_IDS)[number];

/** Fields of the access register (调取登记). */
export const REGISTRATION_FIELDS = [
  'recorder', // 录制人员
  'retriever', // 调取人员
  'time', // 调取时间
  'method', // 调取方式
  'purpose', // 调取用途
  'destination', // 去向
] as const;
export type RegistrationField = (typeof REGISTRATION_FIELDS)[number];

export interface DocumentRule extends Cited<readonly DocumentId[]> {
  /** Besides every document in `value`, at least one of these (empty: no such choice). */
  readonly anyOf: readonly DocumentId[];
}

export interface ForbiddenSite {
  readonly siteType: SiteType;
  /** The articles that forbid cameras there (one per source; several in `strict`). */
  readonly sources: readonly string[];
}

export interface JurisdictionProfile {
  readonly name: ProfileName;
  /** Seed id of the regulation (`hubei-2013`), or null for the built-in `strict`. */
  readonly sourceId: string | null;
  readonly title: { readonly zh: string; readonly en: string };
  /** Minimum retention of all footage, in days (信息资料存储期). */
  readonly retentionDays: Cited<number | null>;
  /** Minimum retention of footage marked important (public safety, emergencies, crime), in days. */
  readonly importantRetentionDays: Cited<number | null>;
  /** Staff who must be present to view, copy or retrieve footage. */
  readonly minStaffForAccess: Cited<number | null>;
  readonly requiredDocuments: DocumentRule;
  readonly registrationFields: Cited<readonly RegistrationField[]>;
  /** Exports carry a visible watermark naming who took them and why (电子水印). */
  readonly watermarkExports: Cited<boolean>;
  /** What leaves for the sharing platform is desensitized (脱敏). */
  readonly desensitizeShared: Cited<boolean>;
  /** Every stop of a camera is reported to the filing police, not only kept in the ledger. */
  readonly reportEveryOutage: Cited<boolean>;
  /** Days to file (备案) with the police after going live, removal, or camera changes. */
  readonly filingDeadlineDays: Cited<number | null>;
  readonly forbiddenSiteTypes: readonly ForbiddenSite[];
  /** The article that asks for each document of `requiredDocuments` (value and anyOf), quoted when one is missing. */
  readonly documentSources: Readonly<Partial<Record<DocumentId, string>>>;
  /**
   * Roles that may *view* footage (live or recorded, not copy or export) without an approved
   * request; the view is still registered, naming this article. Empty where the source grants none.
   */
  readonly viewWithoutApproval: Cited<readonly Role[]>;
}

/** "不少于两年", counted as 731 days so that a span crossing 29 February still holds. */
const TWO_YEARS_DAYS = 731;
/** The register fields the sources that list them have in common (hubei adds `method`). */
const COMMON_REGISTER: readonly RegistrationField[] = ['recorder', 'retriever', 'time', 'purpose', 'destination'];

const cite = <T>(value: T, source: string): Cited<T> => ({ value, source });
const docs = (value: readonly DocumentId[], source: string, anyOf: readonly DocumentId[] = []): DocumentRule => ({
  value,
  anyOf,
  source,
});
/** One article forbidding several site types. */
const forbid = (source: string, ...types: SiteType[]): ForbiddenSite[] => types.map((siteType) => ({ siteType, sources: [source] }));

const HUBEI: JurisdictionProfile = {
  name: 'hubei',
  sourceId: 'hubei-2013',
  title: {
    zh: '湖北省公共安全视频图像信息系统管理办法（省政府令第361号，2013年）',
    en: 'Hubei Provincial Measures on Public Security Video Image Information Systems (Order 361, 2013)',
  },
  retentionDays: cite(15, 'hubei-2013 Art. 17(6)'),
  importantRetentionDays: cite(TWO_YEARS_DAYS, 'hubei-2013 Art. 17(6)'),
  minStaffForAccess: cite(2, 'hubei-2013 Art. 16(1)'),
  requiredDocuments: docs(['enforcement_certificate', 'police_approval'], 'hubei-2013 Art. 16(2), 16(3)'),
  registrationFields: cite([...REGISTRATION_FIELDS], 'hubei-2013 Art. 17(3)'),
  watermarkExports: cite(false, 'hubei-2013: not required'),
  desensitizeShared: cite(false, 'hubei-2013: not required'),
  reportEveryOutage: cite(true, 'hubei-2013 Art. 17(4)'),
  filingDeadlineDays: cite(30, 'hubei-2013 Art. 11'),
  documentSources: { enforcement_certificate: 'hubei-2013 Art. 16(2)', police_approval: 'hubei-2013 Art. 16(3)' },
  viewWithoutApproval: cite([], 'hubei-2013: not set'),
  forbiddenSiteTypes: [
    ...forbid('hubei-2013 Art. 8(1)', 'hotel_guest_room'),
    ...forbid('hubei-2013 Art. 8(2)', 'dormitory_room'),
    // 8(3) names 化妆间 (dressing room), filed here under fitting_room.
    ...forbid('hubei-2013 Art. 8(3)', 'nursing_room', 'public_bath', 'changing_room', 'fitting_room', 'toilet'),
    ...forbid('hubei-2013 Art. 8(4)', 'financial_client_position'),
    ...forbid('hubei-2013 Art. 8(5)', 'ballot_box_area'),
    ...forbid('hubei-2013 Art. 8(6)', 'private_space'),
  ],
};

const QINGDAO: JurisdictionProfile = {
  name: 'qingdao',
  sourceId: 'qingdao-2020',
  title: {
    zh: '青岛市公共安全视频图像信息系统管理办法（2020修订）',
    en: 'Qingdao Municipal Measures on Public Security Video Image Information Systems (2020 revision)',
  },
  retentionDays: cite(30, 'qingdao-2020 Art. 19(7)'),
  importantRetentionDays: cite(null, 'qingdao-2020: not set'),
  minStaffForAccess: cite(2, 'qingdao-2020 Art. 24(1)'),
  requiredDocuments: docs(['work_id', 'police_approval', 'registration'], 'qingdao-2020 Art. 23 ¶1, 24(2), 24(3)'),
  // The register is required but its fields are not listed; the common set is kept.
  registrationFields: cite(COMMON_REGISTER, 'qingdao-2020 Art. 19(1), 24(3)'),
  watermarkExports: cite(false, 'qingdao-2020: not required'),
  desensitizeShared: cite(true, 'qingdao-2020 Art. 9 ¶2'),
  // 19(3) asks to notify the maintainer and bridge the gap, not to report to the police.
  reportEveryOutage: cite(false, 'qingdao-2020 Art. 19(3)'),
  filingDeadlineDays: cite(30, 'qingdao-2020 Art. 16'),
  documentSources: {
    work_id: 'qingdao-2020 Art. 24(2)',
    police_approval: 'qingdao-2020 Art. 23 ¶1, 24(2)',
    registration: 'qingdao-2020 Art. 24(3)',
  },
  viewWithoutApproval: cite([], 'qingdao-2020: not set'),
  forbiddenSiteTypes: forbid(
    'qingdao-2020 Art. 9 ¶1',
    'hotel_guest_room',
    'dormitory_room',
    'public_bath',
    'toilet',
    'changing_room',
    'nursing_room',
    'fitting_room',
    'private_space',
  ),
};

const ZHUZHOU: JurisdictionProfile = {
  name: 'zhuzhou',
  sourceId: 'zhuzhou-2023',
  title: {
    zh: '株洲市公共安全视频图像信息系统管理条例（2023年）',
    en: 'Zhuzhou Municipal Regulation on Public Security Video Image Information Systems (2023)',
  },
  retentionDays: cite(30, 'zhuzhou-2023 Art. 12(5)'),
  importantRetentionDays: cite(null, 'zhuzhou-2023: not set'),
  // Access follows "the powers and procedures of laws and administrative regulations".
  minStaffForAccess: cite(null, 'zhuzhou-2023 Art. 13 ¶2'),
  requiredDocuments: docs([], 'zhuzhou-2023 Art. 13 ¶2'),
  registrationFields: cite(COMMON_REGISTER, 'zhuzhou-2023 Art. 12(4)'),
  watermarkExports: cite(true, 'zhuzhou-2023 Art. 12(4)'),
  desensitizeShared: cite(true, 'zhuzhou-2023 Art. 13 ¶1, 16(1)'),
  reportEveryOutage: cite(false, 'zhuzhou-2023 Art. 12(1), 15(6)'),
  // Art. 7 ¶2: the police register systems themselves; no deadline for the owner.
  filingDeadlineDays: cite(null, 'zhuzhou-2023 Art. 7 ¶2'),
  documentSources: {},
  viewWithoutApproval: cite([], 'zhuzhou-2023: not set'),
  forbiddenSiteTypes: [
    ...forbid('zhuzhou-2023 Art. 8(1)', 'hotel_guest_room'),
    ...forbid('zhuzhou-2023 Art. 8(2)', 'dormitory_room'),
    ...forbid('zhuzhou-2023 Art. 8(3)', 'public_bath', 'nursing_room', 'fitting_room', 'changing_room', 'toilet'),
    ...forbid('zhuzhou-2023 Art. 8(4)', 'private_space'),
  ],
};

const YUNNAN: JurisdictionProfile = {
  name: 'yunnan',
  sourceId: 'yunnan-2016',
  title: {
    zh: '云南省公共安全视频图像信息系统管理规定（省政府令第203号，2016年）',
    en: 'Yunnan Provincial Provisions on Public Security Video Image Information Systems (Order 203, 2016)',
  },
  retentionDays: cite(15, 'yunnan-2016 Art. 22(6)'),
  // 22(7): suspicious footage is reported and copied by the police; no retention period set.
  importantRetentionDays: cite(null, 'yunnan-2016 Art. 22(7)'),
  minStaffForAccess: cite(2, 'yunnan-2016 Art. 17(1)'),
  requiredDocuments: docs(['work_id', 'unit_certificate', 'registration'], 'yunnan-2016 Art. 17(2), 17(3)'),
  registrationFields: cite(COMMON_REGISTER, 'yunnan-2016 Art. 22(4)'),
  watermarkExports: cite(false, 'yunnan-2016: not required'),
  desensitizeShared: cite(false, 'yunnan-2016: not required'),
  reportEveryOutage: cite(false, 'yunnan-2016 Art. 22(2)'),
  filingDeadlineDays: cite(30, 'yunnan-2016 Art. 20'),
  documentSources: {
    work_id: 'yunnan-2016 Art. 17(2)',
    unit_certificate: 'yunnan-2016 Art. 17(2)',
    registration: 'yunnan-2016 Art. 17(3)',
  },
  viewWithoutApproval: cite([], 'yunnan-2016: not set'),
  forbiddenSiteTypes: [
    ...forbid('yunnan-2016 Art. 11(1)', 'hotel_guest_room', 'ktv_private_room'),
    ...forbid('yunnan-2016 Art. 11(2)', 'dormitory_room', 'public_bath', 'toilet', 'fitting_room', 'changing_room', 'nursing_room'),
    ...forbid('yunnan-2016 Art. 11(3)', 'financial_client_position'),
    ...forbid('yunnan-2016 Art. 11(4)', 'ballot_box_area'),
    ...forbid('yunnan-2016 Art. 11(5)', 'private_space'),
  ],
};

const GUANGDONG: JurisdictionProfile = {
  name: 'guangdong',
  sourceId: 'guangdong-2025',
  title: {
    zh: '广东省公共安全视频图像信息系统管理办法（2025年修改，省政府令第316号）',
    en: 'Guangdong Provincial Measures on Public Security Video Image Information Systems (2025 revision, Order 316)',
  },
  retentionDays: cite(null, 'guangdong-2025: not set'),
  importantRetentionDays: cite(TWO_YEARS_DAYS, 'guangdong-2025 Art. 18(5)'),
  minStaffForAccess: cite(2, 'guangdong-2025 Art. 23(1)'),
  // 23 ¶2: police and state security merely *viewing* under 22 ¶1 need no approval document.
  requiredDocuments: docs(['work_id', 'registration'], 'guangdong-2025 Art. 23(2)-(4), 23 ¶2', ['police_approval', 'unit_certificate']),
  registrationFields: cite(COMMON_REGISTER, 'guangdong-2025 Art. 18(3)'),
  watermarkExports: cite(false, 'guangdong-2025: not required'),
  desensitizeShared: cite(false, 'guangdong-2025: not required'),
  reportEveryOutage: cite(false, 'guangdong-2025: not required'),
  filingDeadlineDays: cite(null, 'guangdong-2025: not set'),
  documentSources: {
    work_id: 'guangdong-2025 Art. 23(2)',
    police_approval: 'guangdong-2025 Art. 23(3)',
    unit_certificate: 'guangdong-2025 Art. 23(3)',
    registration: 'guangdong-2025 Art. 23(4)',
  },
  // 22 ¶1 also names state security (国家安全机关); the gateway has no role for it, so police only.
  viewWithoutApproval: cite(['police'], 'guangdong-2025 Art. 22 ¶1, 23 ¶2'),
  forbiddenSiteTypes: [
    ...forbid('guangdong-2025 Art. 7', 'hotel_guest_room', 'dormitory_room', 'public_bath', 'changing_room', 'toilet'),
    // Art. 7 ends in "等涉及公民个人隐私的场所和区域": places where people undress are of that kind.
    ...forbid('guangdong-2025 Art. 7 (等)', 'nursing_room', 'fitting_room', 'private_space'),
  ],
};

const SOURCES: readonly JurisdictionProfile[] = [HUBEI, QINGDAO, ZHUZHOU, YUNNAN, GUANGDONG];

/** Every site type any source forbids, with all the articles that forbid it. */
function unionOfForbidden(profiles: readonly JurisdictionProfile[]): ForbiddenSite[] {
  const bySite = new Map<SiteType, string[]>();
  for (const p of profiles) {
    for (const f of p.forbiddenSiteTypes) bySite.set(f.siteType, [...(bySite.get(f.siteType) ?? []), ...f.sources]);
  }
  return [...bySite].map(([siteType, sources]) => ({ siteType, sources }));
}

const STRICT: JurisdictionProfile = {
  name: 'strict',
  sourceId: null,
  title: {
    zh: '从严（取五地规定中最严格的要求）',
    en: 'Strict: the strictest rule of all five sources',
  },
  retentionDays: cite(30, 'strict: qingdao-2020 Art. 19(7), zhuzhou-2023 Art. 12(5)'),
  importantRetentionDays: cite(TWO_YEARS_DAYS, 'strict: hubei-2013 Art. 17(6), guangdong-2025 Art. 18(5)'),
  minStaffForAccess: cite(2, 'strict: hubei-2013 Art. 16(1), qingdao-2020 Art. 24(1), yunnan-2016 Art. 17(1)'),
  requiredDocuments: docs(
    [...DOCUMENT_IDS],
    'strict: hubei-2013 Art. 16, qingdao-2020 Art. 24, yunnan-2016 Art. 17, guangdong-2025 Art. 23',
  ),
  registrationFields: cite([...REGISTRATION_FIELDS], 'strict: hubei-2013 Art. 17(3)'),
  watermarkExports: cite(true, 'strict: zhuzhou-2023 Art. 12(4)'),
  desensitizeShared: cite(true, 'strict: zhuzhou-2023 Art. 13 ¶1, qingdao-2020 Art. 9 ¶2'),
  reportEveryOutage: cite(true, 'strict: hubei-2013 Art. 17(4)'),
  filingDeadlineDays: cite(30, 'strict: hubei-2013 Art. 11, qingdao-2020 Art. 16, yunnan-2016 Art. 20'),
  documentSources: {
    work_id: 'strict: qingdao-2020 Art. 24(2), yunnan-2016 Art. 17(2), guangdong-2025 Art. 23(2)',
    enforcement_certificate: 'strict: hubei-2013 Art. 16(2)',
    police_approval: 'strict: hubei-2013 Art. 16(3), qingdao-2020 Art. 23 ¶1',
    unit_certificate: 'strict: yunnan-2016 Art. 17(2)',
    registration: 'strict: qingdao-2020 Art. 24(3), yunnan-2016 Art. 17(3), guangdong-2025 Art. 23(4)',
  },
  // The strictest reading: nobody views without an approved request.
  viewWithoutApproval: cite([], 'strict: no exemption (guangdong-2025 Art. 22 ¶1 not taken)'),
  forbiddenSiteTypes: unionOfForbidden(SOURCES),
};

/** Profiles are shared by every component; freezing stops one from editing another's view. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export const PROFILES: Readonly<Record<ProfileName, JurisdictionProfile>> = deepFreeze({
  strict: STRICT,
  hubei: HUBEI,
  qingdao: QINGDAO,
  zhuzhou: ZHUZHOU,
  yunnan: YUNNAN,
  guangdong: GUANGDONG,
});

const PROFILE_SET: ReadonlySet<string> = new Set(PROFILE_NAMES);

export function isProfileName(name: string): name is ProfileName {
  return PROFILE_SET.has(name);
}

/** The profile of that name; an unknown name is a configuration error. */
export function getProfile(name: string): JurisdictionProfile {
  if (!isProfileName(name)) {
    throw new GatewayError('CONFIG_INVALID', `Unknown jurisdiction profile '${name}'`, {
      hint: `Set profile to one of: ${PROFILE_NAMES.join(', ')}.`,
    });
  }
  return PROFILES[name];
}
