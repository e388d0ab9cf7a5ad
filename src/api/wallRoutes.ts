import { Router } from 'express';
import { GatewayError } from '../errors.js';
import type { Store } from '../store/index.js';
import { WALL_LAYOUTS, type SavedWall, type WallLayoutSize } from './contract.js';
import { permit, principalOf } from './permit.js';

const NAME = /^[\p{L}\p{N} _.-]{1,64}$/u;
const MAX_CAMERA_ID = 64;

/** The web console's saved walls: each user's own, by name (the console keeps one called "default"). */
export function wallRoutes(store: Pick<Store, 'walls'>): Router {
  const router = Router();
  const view = (w: { name: string; layout: number; tiles: Array<string | null>; updatedAt: string }): SavedWall => ({
    name: w.name,
    layout: w.layout as WallLayoutSize,
    tiles: w.tiles,
    updatedAt: w.updatedAt,
  });

  router.get('/', permit('session.own'), async (_req, res) => {
    res.json({ items: (await store.walls.list(principalOf(res).userId)).map(view) });
  });

  router.put('/:name', permit('session.own'), async (req, res) => {
    const name = wallName(req.params.name);
    const { layout, tiles } = wallBody(req.body);
    const wall = { userId: principalOf(res).userId, name, layout, tiles, updatedAt: new Date().toISOString() };
    await store.walls.put(wall);
    res.json(view(wall));
  });

  router.delete('/:name', permit('session.own'), async (req, res) => {
    if (!(await store.walls.remove(principalOf(res).userId, wallName(req.params.name)))) {
      throw new GatewayError('NOT_FOUND', `No saved wall "${req.params.name}".`);
    }
    res.status(204).end();
  });
  return router;
}

function wallName(raw: string): string {
  if (!NAME.test(raw))
    throw new GatewayError('VALIDATION_FAILED', 'A wall name is 1 to 64 letters, digits, spaces, dots, dashes or underscores.');
  return raw;
}

function wallBody(body: unknown): { layout: WallLayoutSize; tiles: Array<string | null> } {
  const { layout, tiles } = (body ?? {}) as { layout?: unknown; tiles?: unknown };
  if (typeof layout !== 'number' || !(WALL_LAYOUTS as readonly number[]).includes(layout)) {
    throw new GatewayError('VALIDATION_FAILED', `The wall's layout must be one of ${WALL_LAYOUTS.join(', ')} tiles.`);
  }
  if (!Array.isArray(tiles) || tiles.length !== layout) {
    throw new GatewayError('VALIDATION_FAILED', `A layout of ${layout} needs ${layout} tiles: a camera ID or null for each.`);
  }
  for (const tile of tiles as unknown[]) {
    if (tile !== null && (typeof tile !== 'string' || tile === '' || tile.length > MAX_CAMERA_ID)) {
      throw new GatewayError('VALIDATION_FAILED', 'Each tile is a camera ID (a string) or null for an empty tile.');
    }
  }
  return { layout: layout as WallLayoutSize, tiles: tiles as Array<string | null> };
}
