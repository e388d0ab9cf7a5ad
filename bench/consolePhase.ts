import { cpus, loadavg } from 'node:os';
import type { Browser } from 'playwright-core';
import { BenchCamera } from './camera.js';
import { nowMs } from './children.js';
import {
  VIEWPORT,
  bundleSize,
  coldLoad,
  launchChromium,
  logIn,
  sampleTiles,
  tilesPlaying,
  waitForWall,
  type BundleSize,
  type ColdLoad,
  type TilesPlaying,
} from './consoleBrowser.js';
import {
  COLLECT_TURNS_SCRIPT,
  DirectBrightnessReader,
  matchSceneChanges,
  watchTilesScript,
  type SceneChange,
  type TileLatency,
  type TileTransition,
} from './consoleLatency.js';
import { BenchGateway } from './gateway.js';
import type { BenchOptions } from './options.js';
import { measureTree, type TreeUsage } from './procstat.js';
import { attempt, progress } from './progress.js';
import { pollUntil, round, sleep, summarize, type Summary } from './stats.js';

/**
 * A 16-tile video wall of the web console in headless Chromium, on the test cameras: the
 * browser's CPU, the gateway's added CPU per viewer, tile latency against a direct reader,
 * the console's first load and its bundle size. See bench/README.md (`console`).
 */

const TILES = 16;
const COLD_LOADS = 3;
/** Scene changes this far apart: a tile's latency must stay under two of them to be paired. */
const SCENE_INTERVAL_MS = 1500;
const USER = 'wall-bench';
const PASSWORD = 'Quiet-harbour-lantern-7';

export interface ConsoleFigures {
  setup: {
    tiles: number;
    distinctCameras: number;
    /** Tile i shows camera i mod distinctCameras. */
    tilesPerCamera: number;
    /** Cameras started with scene control (every fourth, from the first), 0-based. */
    sceneCameras: number[];
    /** Tiles showing a scene camera, whose latency is measured. */
    latencyTiles: number[];
    viewport: typeof VIEWPORT;
    chromium: string | null;
    windowSeconds: number;
    /** 1-minute load average of the machine before and after the phase (other work on it moves every figure). */
    loadAverage: { before: number; after: number | null };
    /** Set when the load average was above the CPU count: other work held every process's share down. */
    busyMachine?: string;
  };
  browserCpu: {
    /** Every Chromium process (browser, GPU, renderers, utilities), % of one core. */
    cpuPct: number | null;
    perTilePct: number | null;
    cpuPctBy: Record<string, number> | null;
    processes: number | null;
    pssMiB: number | null;
  };
  gatewayCpu: {
    /**
     * The gateway's tree (node and its ingest ffmpegs) with the cameras and no viewer, % of one
     * core: the mean of a window before the wall opens and one after it closes.
     */
    withoutWallPct: number | null;
    withWallPct: number | null;
    addedPct: number | null;
    /** Added CPU / 16 tile viewers (WS-FLV connections). */
    addedPerViewerPct: number | null;
    nodeAddedPct: number | null;
  };
  tiles: TilesPlaying | null;
  latency: TileLatency | null;
  firstLoad: {
    loads: ColdLoad[];
    renderedMs: Summary;
    playingMs: Summary;
  } | null;
  bundle: BundleSize;
}

export interface ConsoleResults {
  figures: ConsoleFigures | null;
  raw: { gatewayWithoutWall?: TreeUsage; gatewayWithWall?: TreeUsage; gatewayAfterWall?: TreeUsage; browser?: TreeUsage };
  errors: string[];
}

/**
 * Every fourth camera can switch its picture to black and back, the time mark of the latency
 * figure: with 4 cameras tiled 4 times or 16 cameras, 4 tiles are measured. Scene control's
 * filter chain costs the camera far more CPU, so only these have it.
 */
const isSceneCamera = (i: number) => i % 4 === 0;

const minus = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? null : round(a - b, 2));

export async function consolePhase(o: BenchOptions): Promise<ConsoleResults> {
  const errors: string[] = [];
  const raw: ConsoleResults['raw'] = {};
  const distinct = Math.min(o.cameras, TILES);
  const seconds = o.cpuWindowSeconds;
  const loadBefore = round(loadavg()[0], 2) as number;
  const scene = Array.from({ length: distinct }, (_, i) => i).filter(isSceneCamera);
  progress(`console: ${distinct} test cameras (${scene.length} with scene control), a gateway, a ${TILES}-tile wall`);
  const cameras = await Promise.all(
    Array.from({ length: distinct }, (_, i) => BenchCamera.start({ ...o.camera, sceneControl: isSceneCamera(i) })),
  );
  let gw: BenchGateway | null = null;
  let browser: Browser | null = null;
  const readers: DirectBrightnessReader[] = [];
  try {
    gw = await BenchGateway.start();
    const g = gw;
    const ids = await Promise.all(cameras.map((c, i) => g.addCamera(`Wall ${i + 1}`, c.url)));
    for (const id of ids) {
      if ((await g.waitUp(id, 1, 30_000, 100)) === null) throw new Error(`camera ${id} not up within 30 s:\n${g.logTail()}`);
    }
    const tiles = Array.from({ length: TILES }, (_, i) => ids[i % distinct] as string);
    const tilesOf = (camera: number) => tiles.flatMap((id, i) => (id === ids[camera] ? [i] : []));
    const latencyTiles = scene.flatMap(tilesOf).sort((a, b) => a - b);
    await saveWall(g, tiles);

    const figures: ConsoleFigures = {
      setup: {
        tiles: TILES,
        distinctCameras: distinct,
        tilesPerCamera: round(TILES / distinct, 2) as number,
        sceneCameras: scene,
        latencyTiles,
        viewport: VIEWPORT,
        chromium: null,
        windowSeconds: seconds,
        loadAverage: { before: loadBefore, after: null },
      },
      browserCpu: { cpuPct: null, perTilePct: null, cpuPctBy: null, processes: null, pssMiB: null },
      gatewayCpu: { withoutWallPct: null, withWallPct: null, addedPct: null, addedPerViewerPct: null, nodeAddedPct: null },
      tiles: null,
      latency: null,
      firstLoad: null,
      bundle: bundleSize(),
    };

    await attempt(errors, 'console: gateway without the wall', async () => {
      progress(`console: gateway with ${distinct} cameras and no viewer, ${seconds} s`);
      await sleep(o.warmupSeconds * 1000);
      raw.gatewayWithoutWall = await measureTree([g.pid], seconds);
    });

    const launched = await launchChromium();
    browser = launched.browser;
    figures.setup.chromium = browser.version();
    const context = await browser.newContext({ viewport: VIEWPORT });
    const page = await context.newPage();
    await logIn(page, g.apiUrl, USER, PASSWORD);
    const session = await context.storageState();

    await attempt(errors, 'console: first loads', async () => {
      const loads: ColdLoad[] = [];
      for (let i = 1; i <= COLD_LOADS; i++) {
        progress(`console: cold load ${i}/${COLD_LOADS} of the wall`);
        loads.push(await coldLoad(launched.browser, session, `${g.apiUrl}/wall`, TILES));
      }
      figures.firstLoad = {
        loads,
        renderedMs: summarize(
          loads.map((l) => l.renderedMs),
          0,
        ),
        playingMs: summarize(
          loads.map((l) => l.playingMs),
          0,
        ),
      };
    });

    await attempt(errors, 'console: wall open', async () => {
      progress(`console: opening the ${TILES}-tile wall`);
      await page.goto(`${g.apiUrl}/wall`);
      await waitForWall(page, TILES, 'playing', 60_000);
      await sleep(o.warmupSeconds * 1000);
      progress(`console: browser and gateway CPU with the wall playing, ${seconds} s`);
      const before = await sampleTiles(page);
      const [browserUsage, gatewayUsage] = await Promise.all([measureTree(launched.roots, seconds), measureTree([g.pid], seconds)]);
      const after = await sampleTiles(page);
      raw.browser = browserUsage;
      raw.gatewayWithWall = gatewayUsage;
      figures.tiles = tilesPlaying(before, after, browserUsage.seconds);
      figures.browserCpu = {
        cpuPct: browserUsage.cpuPct,
        perTilePct: round(browserUsage.cpuPct / TILES, 2),
        cpuPctBy: browserUsage.cpuPctBy,
        processes: Object.values(browserUsage.countBy).reduce((s, n) => s + n, 0),
        pssMiB: browserUsage.pssMiB,
      };
    });

    await attempt(errors, 'console: tile latency', async () => {
      progress(`console: tile latency against a direct reader, ${seconds} s of scene changes`);
      const runs = scene.map((i) => ({ camera: cameras[i] as BenchCamera, changes: [] as SceneChange[], tiles: tilesOf(i) }));
      for (const run of runs) readers.push(new DirectBrightnessReader(run.camera.url));
      for (const r of readers) {
        if ((await pollUntil(() => r.frames > 0, 15_000, 50)) === null)
          throw new Error(`the direct reader decoded no frame of ${r.url}: ${r.errors()}`);
      }
      // A direct reader joining makes the camera skip an RTP sequence number on the gateway's connection: let it settle.
      await sleep(1000);
      await page.evaluate(watchTilesScript(latencyTiles));
      // An even number of changes: the picture ends as it began.
      const count = Math.max(2, 2 * Math.round((seconds * 1000) / SCENE_INTERVAL_MS / 2));
      const started = nowMs();
      for (let k = 0; k < count; k++) {
        await sleep(Math.max(0, started + k * SCENE_INTERVAL_MS - nowMs()));
        const black = k % 2 === 0;
        await Promise.all(
          runs.map(async (run) =>
            run.changes.push({ turn: black ? 'dark' : 'bright', at: await run.camera.setScene(black ? 'black' : 'normal') }),
          ),
        );
      }
      await sleep(2 * SCENE_INTERVAL_MS);
      const endAt = nowMs();
      const shown = (await page.evaluate(COLLECT_TURNS_SCRIPT)) as TileTransition[];
      figures.latency = matchSceneChanges(
        runs.map((run, i) => ({ changes: run.changes, direct: (readers[i] as DirectBrightnessReader).transitions, tiles: run.tiles })),
        shown,
        endAt,
      );
      if (figures.latency.matched === 0)
        throw new Error(
          `no tile × scene change pair matched (the direct readers saw ${readers.map((r) => r.transitions.length).join(', ')} changes, ` +
            `the tiles ${shown.length}): ${readers.map((r) => r.errors()).join('; ')}`,
        );
    });
    await Promise.all(readers.map((r) => r.stop()));
    await attempt(errors, 'console: gateway after the wall', async () => {
      await page.goto('about:blank');
      progress(`console: gateway with the wall closed, ${seconds} s`);
      await sleep(o.warmupSeconds * 1000);
      raw.gatewayAfterWall = await measureTree([g.pid], seconds);
    });
    figures.gatewayCpu = gatewayFigures(raw);
    figures.setup.loadAverage.after = round(loadavg()[0], 2);
    const load = Math.max(loadBefore, figures.setup.loadAverage.after ?? 0);
    if (load > cpus().length)
      figures.setup.busyMachine =
        `the 1-minute load average (${load}) was above the ${cpus().length} CPUs: processes waited for a CPU, so CPU ` +
        'figures are held down by their share and tiles may play below real time (see tiles.playRate); rerun on a quiet machine';
    return { figures, raw, errors };
  } finally {
    await Promise.all(readers.map((r) => r.stop()));
    await (browser as Browser | null)?.close().catch(() => undefined);
    await gw?.stop();
    await Promise.all(cameras.map((c) => c.stop()));
  }
}

/** The gateway's CPU with the wall against the mean of the windows without it (before and after), per viewer. */
function gatewayFigures(raw: ConsoleResults['raw']): ConsoleFigures['gatewayCpu'] {
  const without = [raw.gatewayWithoutWall, raw.gatewayAfterWall].filter((u): u is TreeUsage => u !== undefined);
  const avg = (pick: (u: TreeUsage) => number) =>
    without.length === 0 ? undefined : without.reduce((s, u) => s + pick(u), 0) / without.length;
  const withWall = raw.gatewayWithWall;
  const added = minus(
    withWall?.cpuPct,
    avg((u) => u.cpuPct),
  );
  return {
    withoutWallPct: round(
      avg((u) => u.cpuPct),
      2,
    ),
    withWallPct: withWall?.cpuPct ?? null,
    addedPct: added,
    addedPerViewerPct: added === null ? null : round(added / TILES, 2),
    nodeAddedPct: minus(
      withWall?.cpuPctBy.main,
      avg((u) => u.cpuPctBy.main ?? 0),
    ),
  };
}

/** A wall operator (the operator role: the shared tier live) whose saved wall has the 16 tiles. */
async function saveWall(gw: BenchGateway, tiles: readonly string[]): Promise<void> {
  await gw.api('POST', '/api/v1/users', { username: USER, password: PASSWORD, roles: ['operator'] });
  const login = await gw.request<{ token?: string }>('POST', '/api/v1/auth/login', { username: USER, password: PASSWORD }, null);
  if (login.status !== 200 || !login.body.token) throw new Error(`login of ${USER} → ${login.status}`);
  const saved = await gw.request('PUT', '/api/v1/console/walls/default', { layout: TILES, tiles }, login.body.token);
  if (saved.status !== 200) throw new Error(`saving the wall → ${saved.status}: ${JSON.stringify(saved.body)}`);
}

/** The verdict line: the issue sets no numeric target for the console, so its figures are stated. */
export function consoleVerdicts(f: ConsoleFigures | null | undefined): Record<string, string> {
  if (!f) return {};
  const l = f.latency?.againstDirectReaderMs;
  return {
    [`console ${f.setup.tiles}-tile wall (no numeric target: stated)`]:
      `browser ${f.browserCpu.cpuPct ?? '-'}% of a core, gateway +${f.gatewayCpu.addedPerViewerPct ?? '-'}% per viewer, ` +
      `tile latency vs direct reader p50/p95 ${l?.p50 ?? '-'}/${l?.p95 ?? '-'} ms, ${f.tiles?.playing ?? '-'}/${f.setup.tiles} playing, ` +
      `first load p50 ${f.firstLoad?.renderedMs.p50 ?? '-'} ms, bundle ${f.bundle.bytes} B (${f.bundle.gzipBytes} B gzip) → stated`,
  };
}
