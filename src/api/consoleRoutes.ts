import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';

/** Where `npm run build` puts the console: dist/web, beside this file's dist/src/api. */
export const CONSOLE_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

/**
 * The console's own scripts and styles only, no inline script or style, no eval, nothing
 * from another origin but the media port's WS-FLV (on whatever host the API hands out,
 * `media.publicHost` or the one the browser used). Video plays from MediaSource blobs.
 */
export function consoleCsp(mediaPort?: number): string {
  const media = mediaPort === undefined ? 'ws: wss:' : `ws://*:${mediaPort} wss://*:${mediaPort}`;
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "media-src 'self' blob:",
    `connect-src 'self' ${media}`,
    "font-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export interface ConsoleOptions {
  /** The built console; default dist/web. */
  dir?: string;
  mediaPort?: number | undefined;
}

/**
 * The web console at `/`: its built files, and its index.html for any other GET outside
 * /api/v1 (the console routes itself). Mounted after the API, so the API keeps precedence.
 */
export function consoleRoutes(opts: ConsoleOptions = {}): Router {
  const dir = opts.dir ?? CONSOLE_DIR;
  const csp = consoleCsp(opts.mediaPort);
  const router = Router();
  router.use((_req, res, next) => {
    res.setHeader('Content-Security-Policy', csp);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });
  // Hashed asset names never change content; index.html is always asked afresh.
  router.use('/assets', express.static(`${dir}assets`, { immutable: true, maxAge: '1y' }));
  router.use('/assets', (_req, res) => {
    res.status(404).type('text/plain').send('No such console asset.\n');
  });
  router.get(/^\/(?!api\/).*/, (_req, res) => {
    if (!existsSync(`${dir}index.html`)) {
      res.status(404).type('text/plain').send('The web console is not built: run `npm run build`.\n');
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile('index.html', { root: dir });
  });
  return router;
}
