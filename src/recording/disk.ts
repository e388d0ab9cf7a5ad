import { statfs } from 'node:fs/promises';
import type { IncidentBoard } from '../health/index.js';
import type { Logger } from '../log.js';
import { PeriodicTask } from './periodic.js';

export interface DiskStatus {
  freeBytes: number;
  /** Bytes of footage on disk, per the index. */
  storedBytes: number;
  /** Sum of the cameras' measured recording rates. */
  bytesPerSecond: number;
  /** Days of footage the disk holds at the measured rate; null before any rate is known. */
  forecastDays: number | null;
  full: boolean;
}

export interface DiskMonitorOptions {
  dir: string;
  minFreeBytes: number;
  /** The profile's minimum retention; a forecast below it is a warning. Null: none set. */
  minRetentionDays: number | null;
  incidents: IncidentBoard;
  logger: Logger;
  storedBytes: () => Promise<number>;
  bytesPerSecond: () => number;
  /** Told when the disk fills and when it has room again. */
  onFull: (full: boolean) => void;
  /** Free bytes of the file system holding `dir`; statfs unless a test gives another. */
  freeBytes?: (dir: string) => Promise<number>;
}

const DAY_S = 86_400;

/**
 * Watches the recordings' file system. Full (less free than `minFreeBytes`) raises a
 * critical `disk_full` incident and stops new recording: footage inside retention is never
 * deleted to make room. Measured bitrate and space give a forecast of the retention the disk
 * can hold; below the profile minimum that is a `retention_forecast_low` warning.
 */
export class DiskMonitor {
  #last: DiskStatus | null = null;
  readonly #periodic: PeriodicTask;

  constructor(private readonly opts: DiskMonitorOptions) {
    this.#periodic = new PeriodicTask(() => this.check(), opts.logger, 'disk check failed');
  }

  start(intervalMs: number): void {
    this.#periodic.start(intervalMs);
  }

  close(): Promise<void> {
    return this.#periodic.close();
  }

  status(): DiskStatus | null {
    return this.#last;
  }

  async check(): Promise<DiskStatus> {
    const o = this.opts;
    const freeBytes = await (o.freeBytes ?? statfsFree)(o.dir);
    const storedBytes = await o.storedBytes();
    const bytesPerSecond = o.bytesPerSecond();
    const full = freeBytes < o.minFreeBytes;
    const usable = storedBytes + Math.max(0, freeBytes - o.minFreeBytes);
    const forecastDays = bytesPerSecond > 0 ? usable / (bytesPerSecond * DAY_S) : null;
    const status: DiskStatus = { freeBytes, storedBytes, bytesPerSecond, forecastDays, full };
    const wasFull = this.#last?.full ?? false;
    this.#last = status;
    if (full && !wasFull) {
      o.onFull(true);
      o.logger.error(
        { dir: o.dir, freeBytes, minFreeBytes: o.minFreeBytes },
        'disk full: recording stopped, no new segments are written; footage inside retention is never deleted to make room',
      );
      o.incidents.fire({
        cameraId: null,
        kind: 'disk_full',
        severity: 'critical',
        message: `the recordings disk has ${freeBytes} bytes free (minimum ${o.minFreeBytes}): recording stopped`,
        details: { dir: o.dir, freeBytes },
      });
    } else if (!full && wasFull) {
      o.onFull(false);
      o.logger.info({ dir: o.dir, freeBytes }, 'disk has room again: recording resumes as ingests restart');
      o.incidents.resolve(null, 'disk_full');
    }
    this.forecastWarning(forecastDays);
    return status;
  }

  private forecastWarning(forecastDays: number | null): void {
    const min = this.opts.minRetentionDays;
    if (min === null || forecastDays === null) return;
    if (forecastDays < min) {
      if (
        this.opts.incidents.fire({
          cameraId: null,
          kind: 'retention_forecast_low',
          severity: 'warning',
          message: `at the measured bitrate the disk holds ${forecastDays.toFixed(1)} days, below the required ${min}`,
          details: { forecastDays, minRetentionDays: min },
        })
      )
        this.opts.logger.warn({ forecastDays, minRetentionDays: min }, 'recording forecast below the minimum retention');
    } else {
      this.opts.incidents.resolve(null, 'retention_forecast_low');
    }
  }
}

async function statfsFree(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}
