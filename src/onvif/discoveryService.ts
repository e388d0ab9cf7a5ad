/**
 * Discovery as the API and the CLI see it: probe, then tell for each device what it is
 * (from the gateway's records when onboarded, else from the device, else from its
 * discovery scopes) and whether it is already registered. Optionally sweeps the network
 * periodically and raises findings: an onboarded camera that vanished or answers from
 * another address, and ONVIF devices nobody registered (shadow devices).
 */
import type { Logger } from '../log.js';
import type { OnvifDeviceRepository } from '../store/index.js';
import type { OnvifDeviceRecord } from '../domain/index.js';
import type { DeviceInformation, DiscoveredDevice } from './types.js';
import type { ProbeOptions } from './wsDiscovery.js';

export interface DiscoveryEntry {
  endpointRef: string;
  address: string;
  xaddrs: string[];
  manufacturer: string | null;
  model: string | null;
  serialNumber: string | null;
  firmwareVersion: string | null;
  hardwareId: string | null;
  /** Where the identity fields came from. */
  infoSource: 'registry' | 'device' | 'scopes';
  registered: boolean;
  cameraId: string | null;
}

export interface DiscoveryRequest {
  timeoutMs?: number;
  interface?: string;
  probeAddresses?: readonly string[];
  /** Credentials to read device information of unregistered devices; without, the call is tried anonymously. */
  credentials?: { username: string; password: string } | null;
}

export interface DiscoveryResult {
  devices: DiscoveryEntry[];
  elapsedMs: number;
}

export interface DiscoverySettings {
  timeoutMs: number;
  repeats: number;
  interface: string | undefined;
  probeAddresses: readonly string[];
  requestTimeoutMs: number;
  /** 0 disables periodic sweeps. */
  intervalMs: number;
}

/** The part of the incident board the sweeps report to. */
export interface FindingSink {
  fire(report: {
    cameraId: string | null;
    kind: string;
    severity: 'warning' | 'critical';
    message: string;
    details?: Record<string, unknown>;
  }): unknown;
  resolve(cameraId: string | null, kind: string): unknown;
}

export interface DiscoveryDeps {
  devices: Pick<OnvifDeviceRepository, 'list' | 'markSeen'>;
  probe: (opts: ProbeOptions) => Promise<DiscoveredDevice[]>;
  readInfo: (
    xaddr: string,
    credentials: { username: string; password: string } | null,
    timeoutMs: number,
  ) => Promise<DeviceInformation | null>;
  settings: DiscoverySettings;
  findings?: FindingSink;
  logger: Logger;
  now?: () => Date;
}

const INFO_CONCURRENCY = 8;
export const FINDING_KINDS = { vanished: 'onvif_vanished', moved: 'onvif_moved', shadow: 'onvif_shadow_devices' } as const;

export class OnvifDiscovery {
  readonly #deps: DiscoveryDeps;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | null = null;
  #sweeping: Promise<void> | null = null;
  #closed = false;

  constructor(deps: DiscoveryDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: 'onvif' });
  }

  async discover(req: DiscoveryRequest = {}): Promise<DiscoveryResult> {
    const s = this.#deps.settings;
    const started = Date.now();
    const iface = req.interface ?? s.interface;
    const found = await this.#deps.probe({
      timeoutMs: req.timeoutMs ?? s.timeoutMs,
      repeats: s.repeats,
      probeAddresses: req.probeAddresses ?? s.probeAddresses,
      logger: this.#log,
      ...(iface === undefined ? {} : { interface: iface }),
    });
    const records = await this.#deps.devices.list();
    const entries = await mapLimited(found, INFO_CONCURRENCY, async (d) => {
      const record = matchRecord(d, records);
      if (record !== undefined) {
        // Onboarded by address: learn its endpoint reference, so it is recognised at a new address too.
        if (record.endpointRef === null) await this.#deps.devices.markSeen(record.cameraId, this.#nowIso(), d.endpointRef);
        return entry(d, record, 'registry', record.cameraId);
      }
      const info = await this.#deps.readInfo(d.xaddrs[0] as string, req.credentials ?? null, s.requestTimeoutMs);
      return info === null
        ? entry(
            d,
            { manufacturer: d.scopeName, model: d.scopeHardware, serialNumber: null, firmwareVersion: null, hardwareId: null },
            'scopes',
            null,
          )
        : entry(d, info, 'device', null);
    });
    const elapsedMs = Date.now() - started;
    this.#log.info({ devices: entries.length, registered: entries.filter((e) => e.registered).length, elapsedMs }, 'ONVIF discovery done');
    return { devices: entries, elapsedMs };
  }

  /** Starts periodic sweeps when an interval is configured. */
  start(): void {
    if (this.#deps.settings.intervalMs <= 0 || this.#timer !== null || this.#closed) return;
    this.#timer = setInterval(() => void this.sweep(), this.#deps.settings.intervalMs);
    this.#timer.unref();
  }

  /** One sweep: compares what answers with what is onboarded and reports the differences. */
  sweep(): Promise<void> {
    this.#sweeping ??= this.#sweep().finally(() => {
      this.#sweeping = null;
    });
    return this.#sweeping;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await this.#sweeping?.catch(() => undefined);
  }

  #nowIso(): string {
    return (this.#deps.now ?? (() => new Date()))().toISOString();
  }

  async #sweep(): Promise<void> {
    let result: DiscoveryResult;
    try {
      result = await this.discover();
    } catch (err) {
      this.#log.warn({ err }, 'ONVIF discovery sweep failed');
      return;
    }
    const findings = this.#deps.findings;
    const at = this.#nowIso();
    const byCamera = new Map(result.devices.filter((d) => d.cameraId !== null).map((d) => [d.cameraId as string, d]));
    for (const record of await this.#deps.devices.list()) {
      const seen = byCamera.get(record.cameraId);
      if (seen === undefined) {
        findings?.fire({
          cameraId: record.cameraId,
          kind: FINDING_KINDS.vanished,
          severity: 'warning',
          message: `ONVIF device ${record.xaddr} did not answer discovery`,
          details: { xaddr: record.xaddr, endpointRef: record.endpointRef },
        });
        continue;
      }
      findings?.resolve(record.cameraId, FINDING_KINDS.vanished);
      await this.#deps.devices.markSeen(record.cameraId, at, seen.endpointRef);
      const storedHost = new URL(record.xaddr).hostname;
      if (seen.address !== storedHost) {
        findings?.fire({
          cameraId: record.cameraId,
          kind: FINDING_KINDS.moved,
          severity: 'warning',
          message: `ONVIF device moved from ${storedHost} to ${seen.address}; its stream URLs may be stale`,
          details: { from: storedHost, to: seen.address, endpointRef: seen.endpointRef },
        });
      } else {
        findings?.resolve(record.cameraId, FINDING_KINDS.moved);
      }
    }
    const shadow = result.devices.filter((d) => !d.registered);
    if (shadow.length > 0) {
      findings?.fire({
        cameraId: null,
        kind: FINDING_KINDS.shadow,
        severity: 'warning',
        message: `${shadow.length} ONVIF device(s) on the network are not registered: ${shadow.map((d) => d.address).join(', ')}`,
        details: { devices: shadow.map((d) => ({ endpointRef: d.endpointRef, address: d.address, model: d.model })) },
      });
    } else {
      findings?.resolve(null, FINDING_KINDS.shadow);
    }
  }
}

/** The onboarded record of a discovered device: by endpoint reference, else by the host of its device service. */
function matchRecord(d: DiscoveredDevice, records: readonly OnvifDeviceRecord[]): OnvifDeviceRecord | undefined {
  return (
    records.find((r) => r.endpointRef === d.endpointRef) ??
    records.find((r) => r.endpointRef === null && d.xaddrs.some((x) => sameService(x, r.xaddr)))
  );
}

function sameService(a: string, b: string): boolean {
  try {
    const ua = new URL(a);
    const ub = new URL(b);
    return ua.host === ub.host;
  } catch {
    return false;
  }
}

function entry(
  d: DiscoveredDevice,
  info: DeviceInformation,
  infoSource: DiscoveryEntry['infoSource'],
  cameraId: string | null,
): DiscoveryEntry {
  return {
    endpointRef: d.endpointRef,
    address: d.address,
    xaddrs: d.xaddrs,
    manufacturer: info.manufacturer,
    model: info.model,
    serialNumber: info.serialNumber,
    firmwareVersion: info.firmwareVersion,
    hardwareId: info.hardwareId,
    infoSource,
    registered: cameraId !== null,
    cameraId,
  };
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
