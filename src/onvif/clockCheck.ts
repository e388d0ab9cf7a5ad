import type { Logger } from '../log.js';
import type { OnvifDeviceRepository } from '../store/index.js';

/** Where camera clock readings go (the health module's ClockWatch). */
export interface ClockReadingSink {
  report(cameraId: string, cameraTime: Date, gatewayTime: Date): unknown;
}

export interface OnvifClockCheckDeps {
  devices: OnvifDeviceRepository;
  readClock: (xaddr: string) => Promise<{ deviceTime: Date; gatewayTime: Date }>;
  clock: ClockReadingSink;
  /** 0: never. */
  intervalMs: number;
  logger: Logger;
}

/**
 * Reads the clock of every camera onboarded through ONVIF at intervals, so a drifting
 * camera clock (its timestamps are evidence) raises an incident long after onboarding
 * checked it. A device that does not answer is left to the outage detector.
 */
export class OnvifClockCheck {
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<number> | null = null;
  #closed = false;

  constructor(private readonly deps: OnvifClockCheckDeps) {}

  start(): void {
    if (this.deps.intervalMs <= 0) return;
    const tick = () => {
      void this.checkAll().finally(() => {
        if (!this.#closed) this.#timer = setTimeout(tick, this.deps.intervalMs);
      });
    };
    tick();
  }

  /** One pass over every onboarded device; resolves to the number of clocks read. */
  checkAll(): Promise<number> {
    this.#running ??= this.#pass().finally(() => (this.#running = null));
    return this.#running;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }

  async #pass(): Promise<number> {
    let read = 0;
    for (const device of await this.deps.devices.list()) {
      if (this.#closed) break;
      try {
        const { deviceTime, gatewayTime } = await this.deps.readClock(device.xaddr);
        this.deps.clock.report(device.cameraId, deviceTime, gatewayTime);
        const drift = Math.round((deviceTime.getTime() - gatewayTime.getTime()) / 1000);
        await this.deps.devices.upsert({ ...device, clockDriftSeconds: drift, clockCheckedAt: gatewayTime.toISOString() });
        read++;
      } catch (err) {
        this.deps.logger.debug({ cameraId: device.cameraId, err: (err as Error).message }, 'could not read the ONVIF clock');
      }
    }
    return read;
  }
}
