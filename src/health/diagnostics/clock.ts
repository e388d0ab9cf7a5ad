import { execFile } from 'node:child_process';
import { childEnv } from '../../childEnv.js';
import type { Logger } from '../../log.js';
import type { IncidentBoard } from '../incidents.js';

/** Seconds the camera's clock is ahead of the gateway's (negative: behind). */
export function clockDriftSeconds(cameraTime: Date, gatewayTime: Date): number {
  return (cameraTime.getTime() - gatewayTime.getTime()) / 1000;
}

export function driftExceeds(driftSeconds: number, maxDriftSeconds: number): boolean {
  return Math.abs(driftSeconds) > maxDriftSeconds;
}

export interface ClockReading {
  driftSeconds: number;
  /** ISO time of the reading (gateway clock). */
  at: string;
}

/**
 * Camera clocks against the gateway's. Whatever reads a camera's time (ONVIF
 * GetSystemDateAndTime, a GB/T 28181 keepalive, …) calls `report`; a drift beyond the
 * limit fires `clock_drift` for that camera, a reading back within it resolves it.
 */
export class ClockWatch {
  readonly #readings = new Map<string, ClockReading>();

  constructor(
    private readonly incidents: IncidentBoard,
    private readonly maxDriftSeconds: number,
  ) {}

  report(cameraId: string, cameraTime: Date, gatewayTime: Date = new Date()): ClockReading {
    const driftSeconds = clockDriftSeconds(cameraTime, gatewayTime);
    const reading = { driftSeconds, at: gatewayTime.toISOString() };
    this.#readings.set(cameraId, reading);
    if (driftExceeds(driftSeconds, this.maxDriftSeconds))
      this.incidents.fire({
        cameraId,
        kind: 'clock_drift',
        severity: 'warning',
        message: `the camera clock is ${Math.abs(driftSeconds).toFixed(1)} s ${driftSeconds > 0 ? 'ahead of' : 'behind'} the gateway (limit ${this.maxDriftSeconds} s)`,
        details: { driftSeconds },
      });
    else this.incidents.resolve(cameraId, 'clock_drift');
    return reading;
  }

  readings(): ReadonlyMap<string, ClockReading> {
    return this.#readings;
  }

  forget(cameraId: string): void {
    this.#readings.delete(cameraId);
    this.incidents.resolve(cameraId, 'clock_drift');
  }
}

export type NtpState = 'synchronized' | 'unsynchronized' | 'unknown';

/** `timedatectl show -p NTPSynchronized --value` prints yes or no. */
export function parseTimedatectl(output: string): NtpState {
  const v = output.trim().toLowerCase();
  return v === 'yes' ? 'synchronized' : v === 'no' ? 'unsynchronized' : 'unknown';
}

/** `chronyc -n tracking`: "Leap status : Normal" when synchronised, "Not synchronised" when not. */
export function parseChronycTracking(output: string): NtpState {
  const leap = /^Leap status\s*:\s*(.+)$/im.exec(output)?.[1]?.trim().toLowerCase();
  if (leap === undefined) return 'unknown';
  return leap.startsWith('not synchronised') ? 'unsynchronized' : 'synchronized';
}

export type CommandRunner = (file: string, args: string[]) => Promise<string>;

const runCommand: CommandRunner = (file, args) =>
  new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 3000, encoding: 'utf8', env: childEnv() }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });

/**
 * The gateway's own NTP sync state: systemd's view (timedatectl), else chrony's; neither
 * tool present or answering (a container, another NTP daemon) is 'unknown', never an error.
 */
export async function readNtpState(run: CommandRunner = runCommand): Promise<{ state: NtpState; source: string }> {
  const probes: Array<[string, string[], (out: string) => NtpState]> = [
    ['timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], parseTimedatectl],
    ['chronyc', ['-n', 'tracking'], parseChronycTracking],
  ];
  for (const [file, args, parse] of probes) {
    try {
      const state = parse(await run(file, args));
      if (state !== 'unknown') return { state, source: file };
    } catch {
      // Missing tool or no daemon behind it: try the next.
    }
  }
  return { state: 'unknown', source: 'none' };
}

/** Reads the NTP state now and then; an unsynchronised gateway clock is an incident. */
export class NtpWatch {
  #state: NtpState = 'unknown';
  #timer: NodeJS.Timeout | null = null;
  #reading: Promise<void> | null = null;

  constructor(
    private readonly incidents: IncidentBoard,
    private readonly intervalMs: number,
    private readonly logger: Logger,
    private readonly run: CommandRunner = runCommand,
  ) {}

  get state(): NtpState {
    return this.#state;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.check(), this.intervalMs);
    this.#timer.unref();
    void this.check();
  }

  async check(): Promise<NtpState> {
    this.#reading ??= (async () => {
      const { state, source } = await readNtpState(this.run);
      if (state !== this.#state) this.logger.info({ ntp: state, source }, 'gateway clock sync state');
      this.#state = state;
      if (state === 'unsynchronized')
        this.incidents.fire({
          cameraId: null,
          kind: 'ntp_unsynchronized',
          severity: 'warning',
          message: `the gateway clock is not synchronised by NTP (${source}): recorded times may drift`,
        });
      else this.incidents.resolve(null, 'ntp_unsynchronized');
    })().finally(() => (this.#reading = null));
    await this.#reading;
    return this.#state;
  }

  close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    return this.#reading ?? Promise.resolve();
  }
}
