import { describe, expect, it } from 'vitest';
import { neighbour, tileCells, wallGeometry, WALL_LAYOUTS } from '../../../web/src/wallLayout.js';
import { visibleWindow, OVERSCAN_ROWS } from '../../../web/src/virtualList.js';

describe('the wall layouts', () => {
  it('hold exactly the tiles they name, 6 and 8 with one large tile', () => {
    for (const layout of WALL_LAYOUTS) {
      const { columns, bigSpan } = wallGeometry(layout);
      expect(columns * columns - bigSpan * bigSpan + 1, `layout ${layout}`).toBe(layout);
      expect(tileCells(layout)).toHaveLength(layout);
    }
    expect(wallGeometry(6).bigSpan).toBe(2);
    expect(wallGeometry(8).bigSpan).toBe(3);
    // 6: the large tile top-left, two tiles down its right side, three along the bottom.
    expect(tileCells(6)).toEqual([
      { row: 0, column: 0 },
      { row: 0, column: 2 },
      { row: 1, column: 2 },
      { row: 2, column: 0 },
      { row: 2, column: 1 },
      { row: 2, column: 2 },
    ]);
  });

  it('moves the keyboard focus to the tile that lies in the arrow direction', () => {
    // 2×2: 0 1 / 2 3.
    expect(neighbour(4, 0, 'ArrowRight')).toBe(1);
    expect(neighbour(4, 0, 'ArrowDown')).toBe(2);
    expect(neighbour(4, 3, 'ArrowUp')).toBe(1);
    expect(neighbour(4, 3, 'ArrowLeft')).toBe(2);
    // At an edge it stays.
    expect(neighbour(4, 0, 'ArrowLeft')).toBe(0);
    // Around the large tile of 6: right of it is tile 1 (top right), below it the bottom row.
    expect(neighbour(6, 0, 'ArrowRight')).toBe(1);
    expect([3, 4]).toContain(neighbour(6, 0, 'ArrowDown'));
    expect(neighbour(6, 3, 'ArrowUp')).toBe(0);
    expect(neighbour(6, 2, 'ArrowLeft')).toBe(0);
    expect(neighbour(16, 5, 'ArrowDown')).toBe(9);
  });
});

describe('the virtualised list window', () => {
  it('holds the rows in view and a few either side, never past the ends', () => {
    expect(visibleWindow(0, 360, 36, 10_000)).toEqual({ first: 0, last: 10 + OVERSCAN_ROWS });
    const end = visibleWindow(10_000 * 36 - 360, 360, 36, 10_000);
    expect(end.last).toBe(10_000);
    expect(end.first).toBe(10_000 - 10 - OVERSCAN_ROWS);
    expect(visibleWindow(0, 360, 36, 3)).toEqual({ first: 0, last: 3 });
    expect(visibleWindow(0, 360, 36, 0)).toEqual({ first: 0, last: 0 });
  });
});
