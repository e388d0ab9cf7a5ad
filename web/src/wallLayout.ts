import { WALL_LAYOUTS, type WallLayoutSize } from '../../src/api/contract.js';

/**
 * The wall's grids: 1, 4, 9 and 16 tiles in a square grid; 6 and 8 with the first tile
 * large (2×2 of a 3×3 grid, 3×3 of a 4×4 grid). Pure logic, unit-tested.
 */
export interface WallGeometry {
  columns: number;
  /** How many cells the first tile spans each way (1: all tiles alike). */
  bigSpan: number;
}

const GEOMETRY: Record<WallLayoutSize, WallGeometry> = {
  1: { columns: 1, bigSpan: 1 },
  4: { columns: 2, bigSpan: 1 },
  6: { columns: 3, bigSpan: 2 },
  8: { columns: 4, bigSpan: 3 },
  9: { columns: 3, bigSpan: 1 },
  16: { columns: 4, bigSpan: 1 },
};

export { WALL_LAYOUTS, type WallLayoutSize };
export const MAX_TILES = Math.max(...WALL_LAYOUTS);

export function wallGeometry(layout: WallLayoutSize): WallGeometry {
  return GEOMETRY[layout];
}

/** Each tile's cell (0-based row and column of its top-left corner) in the grid, in order. */
export function tileCells(layout: WallLayoutSize): Array<{ row: number; column: number }> {
  const { columns, bigSpan } = GEOMETRY[layout];
  const cells: Array<{ row: number; column: number }> = [{ row: 0, column: 0 }];
  for (let row = 0; row < columns; row++) {
    for (let column = 0; column < columns; column++) {
      if (row < bigSpan && column < bigSpan) continue;
      cells.push({ row, column });
    }
  }
  return cells;
}

/**
 * The tile an arrow key moves to from `from`: the nearest tile whose cell lies that way,
 * so keyboard moves follow the picture even around the large tile.
 */
export function neighbour(layout: WallLayoutSize, from: number, key: 'ArrowLeft' | 'ArrowRight' | 'ArrowUp' | 'ArrowDown'): number {
  const cells = tileCells(layout);
  const { bigSpan } = GEOMETRY[layout];
  const centre = (i: number) => {
    const c = cells[i] ?? { row: 0, column: 0 };
    const span = i === 0 ? bigSpan : 1;
    return { x: c.column + span / 2, y: c.row + span / 2 };
  };
  const here = centre(from);
  const steps: Record<typeof key, { dx: number; dy: number }> = {
    ArrowLeft: { dx: -1, dy: 0 },
    ArrowRight: { dx: 1, dy: 0 },
    ArrowUp: { dx: 0, dy: -1 },
    ArrowDown: { dx: 0, dy: 1 },
  };
  const { dx, dy } = steps[key];
  let best = from;
  let bestScore = Infinity;
  cells.forEach((_, i) => {
    if (i === from) return;
    const p = centre(i);
    const along = (p.x - here.x) * dx + (p.y - here.y) * dy;
    if (along <= 0) return;
    const across = Math.abs((p.x - here.x) * dy) + Math.abs((p.y - here.y) * dx);
    const score = along + 2 * across;
    if (score < bestScore) {
      bestScore = score;
      best = i;
    }
  });
  return best;
}
