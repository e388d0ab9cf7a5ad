import { describe, expect, it } from 'vitest';
import { tilesPlaying, type TileSample } from '../../../bench/consoleBrowser.js';
import { matchSceneChanges, type SceneChange, type TileTransition } from '../../../bench/consoleLatency.js';

describe('matchSceneChanges', () => {
  // Black at 0, back at 1500, black at 3000, back at 4500 (the camera's command times).
  const changes: SceneChange[] = [
    { turn: 'dark', at: 0 },
    { turn: 'bright', at: 1500 },
    { turn: 'dark', at: 3000 },
    { turn: 'bright', at: 4500 },
  ];
  const direct = [
    { turn: 'dark' as const, at: 100 },
    { turn: 'bright' as const, at: 1600 },
    { turn: 'dark' as const, at: 3100 },
    { turn: 'bright' as const, at: 4600 },
  ];

  it('pairs each tile change with the direct reader’s change of the same scene command', () => {
    const tiles: TileTransition[] = [
      ...direct.map((d) => ({ tile: 0, turn: d.turn, at: d.at + 700 })),
      ...direct.map((d) => ({ tile: 4, turn: d.turn, at: d.at + 900 })),
    ];
    const m = matchSceneChanges([{ changes, direct, tiles: [0, 4] }], tiles, 8000);
    expect(m.expected).toBe(8);
    expect(m.matched).toBe(8);
    expect(m.missed).toBe(0);
    expect(m.againstDirectReaderMs.p50).toBe(800);
    expect(m.againstDirectReaderMs.min).toBe(700);
    expect(m.againstDirectReaderMs.max).toBe(900);
    expect(m.directReaderAfterSceneChangeMs.p50).toBe(100);
    expect(m.tileAfterSceneChangeMs.min).toBe(800);
  });

  it('pairs a tile later than the next change (but before the next of its kind) with its own change', () => {
    const tiles: TileTransition[] = direct.map((d) => ({ tile: 0, turn: d.turn, at: d.at + 2000 }));
    const m = matchSceneChanges([{ changes, direct, tiles: [0] }], tiles, 8000);
    expect(m.samples).toEqual([2000, 2000, 2000, 2000]);
  });

  it('counts a change a tile never showed, or showed too late, as missed', () => {
    const tiles: TileTransition[] = [
      { tile: 0, turn: 'dark', at: 800 },
      // The second change shown after the next bright command: taken for that one.
      { tile: 0, turn: 'bright', at: 4700 },
    ];
    const m = matchSceneChanges([{ changes, direct, tiles: [0] }], tiles, 8000);
    expect(m.expected).toBe(4);
    expect(m.matched).toBe(2);
    expect(m.missed).toBe(2);
    expect(m.samples).toEqual([700, 100]);
  });
});

describe('matchSceneChanges with several scene cameras', () => {
  it('pairs each camera’s tiles with that camera’s direct reader', () => {
    const changes: SceneChange[] = [
      { turn: 'dark', at: 0 },
      { turn: 'bright', at: 1500 },
    ];
    const a = [
      { turn: 'dark' as const, at: 100 },
      { turn: 'bright' as const, at: 1600 },
    ];
    const b = a.map((t) => ({ ...t, at: t.at + 300 }));
    const shown: TileTransition[] = [
      { tile: 0, turn: 'dark', at: 600 },
      { tile: 0, turn: 'bright', at: 2100 },
      { tile: 1, turn: 'dark', at: 600 },
      { tile: 1, turn: 'bright', at: 2100 },
    ];
    const m = matchSceneChanges(
      [
        { changes, direct: a, tiles: [0] },
        { changes, direct: b, tiles: [1] },
      ],
      shown,
      5000,
    );
    expect(m.sceneChanges).toBe(4);
    expect(m.samples).toEqual([500, 500, 200, 200]);
  });
});

describe('tilesPlaying', () => {
  const sample = (tile: number, currentTime: number, totalFrames: number, droppedFrames = 0, state = 'playing'): TileSample => ({
    tile,
    state,
    currentTime,
    totalFrames,
    droppedFrames,
  });

  it('counts the tiles whose video advanced, with their play rate, frame rate and dropped frames', () => {
    const before = [sample(0, 10, 250), sample(1, 10, 250, 2), sample(2, 3, 75)];
    const after = [sample(0, 15, 375), sample(1, 12.5, 310, 5), sample(2, 3, 75, 0, 'offline')];
    const t = tilesPlaying(before, after, 5);
    expect(t.tiles).toBe(3);
    expect(t.playing).toBe(2);
    expect(t.statePlaying).toBe(2);
    expect(t.playRate.max).toBe(1);
    expect(t.playRate.min).toBe(0);
    expect(t.framesPerSecond.max).toBe(25);
    expect(t.droppedFrames).toBe(3);
  });
});
