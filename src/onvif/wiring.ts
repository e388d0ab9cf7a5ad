/** Builds the ONVIF components from the config; called by the composition root. */
import type { CameraCredentials } from '../domain/index.js';
import { closeOnce } from '../lifecycle.js';
import type { CameraRegistry } from '../cameras/index.js';
import type { GatewayConfig } from '../config/index.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/index.js';
import { OnvifClockCheck, type ClockReadingSink } from './clockCheck.js';
import { probeDevice, readDeviceClock, readDeviceInformation } from './deviceClient.js';
import { OnvifDiscovery, type FindingSink } from './discoveryService.js';
import { OnvifOnboarding } from './onboarding.js';
import { probeNetwork } from './wsDiscovery.js';

export interface OnvifWiringDeps {
  config: GatewayConfig;
  store: Store;
  registry: CameraRegistry;
  incidents: FindingSink;
  playCheck: (url: string, credentials: CameraCredentials | null) => Promise<unknown>;
  /** Receives the periodic clock readings of onboarded devices. */
  clock: ClockReadingSink;
  logger: Logger;
  /** Told once an onboarded device's profile choice is stored. */
  onOnboarded?: (cameraId: string) => void;
}

export interface OnvifComponents {
  discovery: OnvifDiscovery;
  onboarding: OnvifOnboarding;
  clockCheck: OnvifClockCheck;
  /** Stops the sweeps and the clock reads; idempotent. */
  close(): Promise<void>;
}

/** Starts discovery sweeps and clock reads, and builds onboarding. */
export function startOnvif(deps: OnvifWiringDeps): OnvifComponents {
  const c = deps.config.onvif;
  const requestTimeoutMs = c.requestTimeoutSeconds * 1000;
  const discovery = new OnvifDiscovery({
    devices: deps.store.onvif,
    probe: probeNetwork,
    readInfo: readDeviceInformation,
    settings: {
      timeoutMs: c.discoveryTimeoutSeconds * 1000,
      repeats: c.probeRepeats,
      interface: c.interface,
      probeAddresses: c.probeAddresses,
      requestTimeoutMs,
      intervalMs: c.rediscoveryIntervalSeconds * 1000,
    },
    findings: deps.incidents,
    logger: deps.logger,
  });
  discovery.start();
  const onboarding = new OnvifOnboarding({
    registry: deps.registry,
    devices: deps.store.onvif,
    probeDevice: (target) => probeDevice(target, deps.logger),
    playCheck: deps.playCheck,
    settings: { requestTimeoutMs, maxClockDriftSeconds: c.maxClockDriftSeconds },
    logger: deps.logger,
    ...(deps.onOnboarded ? { onOnboarded: deps.onOnboarded } : {}),
  });
  const clockCheck = new OnvifClockCheck({
    devices: deps.store.onvif,
    readClock: (xaddr) => readDeviceClock(xaddr, requestTimeoutMs),
    clock: deps.clock,
    intervalMs: c.clockCheckIntervalSeconds * 1000,
    logger: deps.logger,
  });
  clockCheck.start();
  return {
    discovery,
    onboarding,
    clockCheck,
    close: closeOnce(async () => {
      await clockCheck.close();
      await discovery.close();
    }),
  };
}
