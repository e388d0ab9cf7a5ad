import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { SessionGrant } from '../access/index.js';

/**
 * The console's session in cookies, so no script on the page can read its tokens:
 * the session and refresh tokens HttpOnly, SameSite=Strict, Secure when the request came
 * over TLS, scoped to the API. State-changing calls made with these cookies also carry
 * the CSRF token (readable, in its own cookie) in a header: a signed double submit, the
 * token being a digest of the refresh token, so a cookie planted by a sibling site cannot
 * be matched without knowing the session's secret. The CLI's bearer token is unchanged.
 */
export const SESSION_COOKIE = 'psvgw_session';
export const REFRESH_COOKIE = 'psvgw_refresh';
export const CSRF_COOKIE = 'psvgw_csrf';
export const CSRF_HEADER = 'x-csrf-token';
const COOKIE_PATH = '/api/v1';
/** The console's pages (at /) must read the CSRF cookie, so it is scoped to the whole site. */
const CSRF_PATH = '/';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The named cookie's value from the Cookie header, or undefined. */
export function cookieValue(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

export function csrfTokenFor(refreshToken: string): string {
  return createHash('sha256').update(`psvgw-csrf:${refreshToken}`).digest('base64url');
}

/** True when a cookie-authenticated request may go on: a safe method, or the header matching the session's CSRF token. */
export function csrfAllows(req: Request): boolean {
  if (SAFE_METHODS.has(req.method)) return true;
  const refresh = cookieValue(req, REFRESH_COOKIE);
  const sent = req.headers[CSRF_HEADER];
  if (refresh === undefined || typeof sent !== 'string') return false;
  const want = Buffer.from(csrfTokenFor(refresh));
  const got = Buffer.from(sent);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** Sets the three cookies of a grant; they last as long as its refresh token. */
export function setSessionCookies(req: Request, res: Response, grant: SessionGrant): void {
  const maxAge = Math.max(0, Date.parse(grant.refreshExpiresAt) - Date.now());
  const base = { path: COOKIE_PATH, sameSite: 'strict', secure: req.secure, maxAge } as const;
  res.cookie(SESSION_COOKIE, grant.token, { ...base, httpOnly: true });
  res.cookie(REFRESH_COOKIE, grant.refreshToken, { ...base, httpOnly: true });
  res.cookie(CSRF_COOKIE, csrfTokenFor(grant.refreshToken), { ...base, path: CSRF_PATH, httpOnly: false });
}

export function clearSessionCookies(req: Request, res: Response): void {
  for (const name of [SESSION_COOKIE, REFRESH_COOKIE, CSRF_COOKIE]) {
    const csrf = name === CSRF_COOKIE;
    res.clearCookie(name, { path: csrf ? CSRF_PATH : COOKIE_PATH, sameSite: 'strict', secure: req.secure, httpOnly: !csrf });
  }
}

/** What a cookie login or refresh answers: the expiry times, never the tokens. */
export function cookieGrantBody(grant: SessionGrant): { expiresAt: string; refreshExpiresAt: string; session: 'cookie' } {
  return { expiresAt: grant.expiresAt, refreshExpiresAt: grant.refreshExpiresAt, session: 'cookie' };
}
