import { SITE_TYPE_INFO, SITE_TYPES, isSiteType } from '../../../src/domain/siteTypes.js';
import { en } from './en.js';
import { format } from './format.js';
import { zh, type MessageKey } from './zh.js';

export type Lang = 'zh' | 'en';
export type { MessageKey };
export { SITE_TYPES };

export const MESSAGES: Record<Lang, Record<MessageKey, string>> = { zh, en };
const STORAGE_KEY = 'psvgw.lang';

/** Chinese unless the user chose English before (remembered in localStorage). */
export function initialLang(): Lang {
  return localStorage.getItem(STORAGE_KEY) === 'en' ? 'en' : 'zh';
}

export function rememberLang(lang: Lang): void {
  localStorage.setItem(STORAGE_KEY, lang);
}

export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

export function translator(lang: Lang): Translate {
  return (key, params) => format(MESSAGES[lang][key], params);
}

/** Site type names come from the gateway's own catalogue (src/domain), so they cannot drift from the filing report. */
export function siteTypeName(lang: Lang, siteType: string): string {
  return isSiteType(siteType) ? SITE_TYPE_INFO[siteType][lang] : siteType;
}
