/**
 * Which rows of a long list are in the DOM: those in view, and a few either side so a
 * quick scroll does not show blanks. Pure logic, unit-tested.
 */
export const OVERSCAN_ROWS = 10;

export function visibleWindow(scrollTop: number, viewportPx: number, rowPx: number, total: number): { first: number; last: number } {
  const first = Math.max(0, Math.floor(scrollTop / rowPx) - OVERSCAN_ROWS);
  const last = Math.min(total, Math.ceil((scrollTop + viewportPx) / rowPx) + OVERSCAN_ROWS);
  return { first, last: Math.max(first, last) };
}
