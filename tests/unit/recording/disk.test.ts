import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { IncidentBoard } from '../../../src/health/index.js';
import { DiskMonitor } from '../../../src/recording/index.js';

const MB = 1024 * 1024;

function monitor(free: { bytes: number }, bytesPerSecond: number) {
  const logger = pino({ level: 'silent' });
  const incidents = new IncidentBoard(logger);
  const told: boolean[] = [];
  const disk = new DiskMonitor({
    dir: '/recordings',
    minFreeBytes: 512 * MB,
    minRetentionDays: 30,
    incidents,
    logger,
    storedBytes: async () => 100 * 1024 * MB,
    bytesPerSecond: () => bytesPerSecond,
    onFull: (full) => told.push(full),
    freeBytes: async () => free.bytes,
  });
  return { disk, incidents, told };
}

describe('DiskMonitor', () => {
  it('forecasts retention days from the measured bitrate and warns below the profile minimum', async () => {
    // 4 Mbit/s = 500 000 B/s; 100 GiB stored + (1 TiB - 512 MiB) free → about 27.3 days.
    const m = monitor({ bytes: 1024 * 1024 * MB }, 500_000);
    const status = await m.disk.check();
    expect(status.forecastDays).toBeCloseTo((100 * 1024 * MB + 1024 * 1024 * MB - 512 * MB) / (500_000 * 86_400), 6);
    expect(status.forecastDays).toBeLessThan(30);
    expect(m.incidents.active().map((i) => [i.kind, i.severity])).toEqual([['retention_forecast_low', 'warning']]);
  });

  it('fires a critical disk_full once, stops recording, and resolves when space returns', async () => {
    const free = { bytes: 100 * MB };
    const m = monitor(free, 1000);
    await m.disk.check();
    await m.disk.check();
    expect(m.incidents.active({ kind: 'disk_full' })).toMatchObject([{ severity: 'critical', cameraId: null }]);
    expect(m.told).toEqual([true]);
    free.bytes = 10 * 1024 * MB;
    await m.disk.check();
    expect(m.incidents.isFiring(null, 'disk_full')).toBe(false);
    expect(m.told).toEqual([true, false]);
  });
});
