import { describe, expect, it } from 'vitest';
import { en } from '../../../web/src/i18n/en.js';
import { format, placeholders } from '../../../web/src/i18n/format.js';
import { zh } from '../../../web/src/i18n/zh.js';
import { observe, retryDelayMs, startWatch, STALL_MS } from '../../../web/src/tileHealth.js';

describe('console messages', () => {
  it('has every key in both languages, with the same placeholders', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(zh).sort());
    for (const [key, text] of Object.entries(zh)) {
      expect(placeholders(en[key as keyof typeof zh]), key).toEqual(placeholders(text));
      expect(en[key as keyof typeof zh].trim(), key).not.toBe('');
    }
  });

  it('fills placeholders and leaves unknown ones visible', () => {
    expect(format('第 {page} / {pages} 页', { page: 2, pages: 5 })).toBe('第 2 / 5 页');
    expect(format('Page {page}', {})).toBe('Page {page}');
  });
});

describe('wall tile health', () => {
  it('calls a tile stalled only after its picture stops advancing for STALL_MS', () => {
    let w = startWatch(0);
    let r = observe(w, 0.04, 100);
    expect(r.stalled).toBe(false);
    w = r.watch;
    r = observe(w, 0.04, 100 + STALL_MS - 1);
    expect(r.stalled).toBe(false);
    r = observe(r.watch, 0.04, 100 + STALL_MS);
    expect(r.stalled).toBe(true);
    r = observe(r.watch, 0.08, 100 + STALL_MS + 1);
    expect(r.stalled).toBe(false);
  });

  it('counts a player that never starts as stalled', () => {
    expect(observe(startWatch(0), 0, STALL_MS).stalled).toBe(false); // 0 > -1: the first sample counts as a start
    const w = observe(startWatch(0), 0, 10).watch;
    expect(observe(w, 0, 10 + STALL_MS).stalled).toBe(true);
  });

  it('backs off 1, 2, 4, 8 s then stays at 10 s', () => {
    expect([0, 1, 2, 3, 4, 10].map(retryDelayMs)).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
  });
});
