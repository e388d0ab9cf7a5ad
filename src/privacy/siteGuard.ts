import { SITE_TYPES, SITE_TYPE_INFO, isSiteType } from '../domain/index.js';
import type { JurisdictionProfile } from '../config/index.js';

/**
 * The privacy guard's judgement of one site type under one jurisdiction profile. A
 * forbidden camera is never ingested, recorded or forwarded; callers turn the verdict
 * into a PRIVACY_FORBIDDEN_SITE error and an audit entry.
 */
export interface SiteVerdict {
  forbidden: boolean;
  siteType: string;
  /** The articles that forbid it (empty when allowed). */
  citations: string[];
  /** Set when forbidden: what is wrong and what to do, in Chinese and English. */
  message?: string;
}

/**
 * Pure: the profile's list decides. A site type the catalogue does not know is refused
 * too, since the guard cannot tell whether it names a private place.
 */
export function checkSite(profile: JurisdictionProfile, siteType: string): SiteVerdict {
  if (!isSiteType(siteType)) return unknownSiteVerdict(profile, siteType);
  const rule = profile.forbiddenSiteTypes.find((f) => f.siteType === siteType);
  if (rule === undefined) return { forbidden: false, siteType, citations: [] };
  const citations = [...rule.sources];
  return { forbidden: true, siteType, citations, message: forbiddenMessage(profile, siteType, citations) };
}

function forbiddenMessage(profile: JurisdictionProfile, siteType: keyof typeof SITE_TYPE_INFO, citations: readonly string[]): string {
  const info = SITE_TYPE_INFO[siteType];
  return (
    `禁止在${info.zh}安装视频图像采集设备 / Cameras may not be installed in a ${info.en} ` +
    `(site type '${siteType}'): forbidden under profile '${profile.name}' by ${citations.join('; ')}. ` +
    `Do not install or connect a camera there; if the place was misclassified, ` +
    `choose the correct site type for the camera.`
  );
}

function unknownSiteVerdict(profile: JurisdictionProfile, siteType: string): SiteVerdict {
  return {
    forbidden: true,
    siteType,
    citations: [],
    message:
      `未知场所类型 / Unknown site type '${siteType}': the privacy guard of profile '${profile.name}' ` +
      `cannot tell whether it is a private place, so the camera is refused. ` +
      `Choose one of: ${SITE_TYPES.join(', ')}.`,
  };
}
