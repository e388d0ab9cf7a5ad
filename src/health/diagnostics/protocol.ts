import type { AnalyzerSettings, SampleResult } from './analyzer.js';
import type { Baseline } from './checks.js';

/** Messages to the analysis worker. Frame pixels travel as a transferred ArrayBuffer. */
export type ToWorker =
  | { type: 'configure'; cameraId: string; settings: AnalyzerSettings; baseline: Baseline | null }
  | { type: 'frame'; cameraId: string; width: number; height: number; pixels: ArrayBuffer }
  | { type: 'gap'; cameraId: string }
  | { type: 'relearn'; cameraId: string }
  | { type: 'remove'; cameraId: string };

/** Messages from the analysis worker. */
export type FromWorker = { type: 'result'; cameraId: string; result: SampleResult } | { type: 'failed'; cameraId: string; message: string };
