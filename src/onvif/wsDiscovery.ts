/**
 * WS-Discovery probes. Multicast to 239.255.255.250:3702 goes through the onvif
 * package's Discovery (with `resolve: false`: it would otherwise connect to every device
 * it finds, with a 120 s timeout); probes aimed at known addresses (a subnet's cameras
 * behind a router that drops multicast) are sent from our own socket and their answers
 * parsed with the same package's SOAP parser. Repeated probes are merged by endpoint
 * reference: UDP may lose any single answer.
 */
import dgram from 'node:dgram';
import { createRequire } from 'node:module';
import { networkInterfaces } from 'node:os';
import onvif from 'onvif';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { devicesFromProbeMatches, mergeDevices, parseProbeAddress, probeMessage, type ParsedProbeMatches } from './probeMatch.js';
import type { DiscoveredDevice } from './types.js';

interface OnvifUtils {
  parseSOAPString(xml: string, callback: (err: Error | null, body: unknown) => void, statusCode?: number): void;
  linerase(value: unknown): unknown;
}
// The package's SOAP parser is not part of its typed surface; its module path is stable across 0.x.
const onvifUtils = createRequire(import.meta.url)('onvif/lib/utils') as OnvifUtils;

export interface ProbeOptions {
  /** How long to listen for answers after each probe. */
  timeoutMs: number;
  /** Probes sent; their answers are merged. */
  repeats: number;
  /** Network interface to probe from (its first IPv4 address), e.g. `eth0`. */
  interface?: string;
  /** `host[:port]` targets probed directly instead of the multicast group. */
  probeAddresses?: readonly string[];
  logger: Logger;
}

/** Probes and returns every device that answered, deduplicated by endpoint reference. */
export async function probeNetwork(opts: ProbeOptions): Promise<DiscoveredDevice[]> {
  const bindAddress = opts.interface === undefined ? undefined : interfaceAddress(opts.interface);
  const targets = (opts.probeAddresses ?? []).map((a) => {
    try {
      return parseProbeAddress(a);
    } catch (err) {
      throw new GatewayError('VALIDATION_FAILED', `probe address ${(err as Error).message}`, {
        hint: 'Write probe addresses as HOST or HOST:PORT, e.g. 192.168.1.64 or 192.168.1.64:3702.',
      });
    }
  });
  const repeats = Math.max(1, Math.trunc(opts.repeats));
  // Probes overlap, each a little later, so the whole sweep takes about one timeout.
  const stagger = Math.min(250, Math.floor(opts.timeoutMs / (repeats + 1)));
  const runs = Array.from({ length: repeats }, async (_, i) => {
    await new Promise((r) => setTimeout(r, i * stagger));
    return targets.length > 0
      ? unicastProbe(targets, opts.timeoutMs - i * stagger, bindAddress, opts.logger)
      : multicastProbe(opts.timeoutMs - i * stagger, opts.interface, opts.logger);
  });
  return mergeDevices((await Promise.all(runs)).flat());
}

function multicastProbe(timeoutMs: number, device: string | undefined, logger: Logger): Promise<DiscoveredDevice[]> {
  const discovery = onvif.Discovery;
  // The singleton emits 'error' for every answer it cannot parse; unheard, that would throw.
  if (discovery.listenerCount('error') === 0) {
    discovery.on('error', (err: unknown) => logger.debug({ err: String(err) }, 'WS-Discovery: answer ignored'));
  }
  return new Promise((resolve, reject) => {
    let settled = false;
    discovery.probe({ timeout: timeoutMs, resolve: false, ...(device === undefined ? {} : { device }) }, (err, found) => {
      if (settled) return;
      settled = true;
      const devices = (found ?? []).flatMap((f) => devicesFromProbeMatches(f as ParsedProbeMatches));
      // Unparseable answers come back as errors next to the good ones; only a socket error fails the probe.
      if (err !== null && !Array.isArray(err) && devices.length === 0) {
        reject(
          new GatewayError('VALIDATION_FAILED', `WS-Discovery probe failed: ${err.message}`, {
            hint: 'Check --interface and that this host may send UDP to 239.255.255.250:3702.',
          }),
        );
        return;
      }
      resolve(devices);
    });
  });
}

function unicastProbe(
  targets: ReadonlyArray<{ host: string; port: number }>,
  timeoutMs: number,
  bindAddress: string | undefined,
  logger: Logger,
): Promise<DiscoveredDevice[]> {
  const socket = dgram.createSocket('udp4');
  const found: DiscoveredDevice[] = [];
  socket.on('message', (msg, rinfo) => {
    onvifUtils.parseSOAPString(msg.toString('utf8'), (err, body) => {
      if (err !== null || !Array.isArray(body)) {
        logger.debug({ from: `${rinfo.address}:${rinfo.port}`, err: err?.message }, 'WS-Discovery: answer ignored');
        return;
      }
      found.push(...devicesFromProbeMatches(onvifUtils.linerase(body[0]) as ParsedProbeMatches));
    });
  });
  return new Promise((resolve, reject) => {
    socket.once('error', (err) => {
      socket.close();
      reject(new GatewayError('VALIDATION_FAILED', `WS-Discovery probe failed: ${err.message}`));
    });
    socket.bind(0, bindAddress, () => {
      const probe = Buffer.from(probeMessage());
      for (const t of targets) socket.send(probe, t.port, t.host, (err) => err && logger.debug({ err, target: t }, 'probe not sent'));
      setTimeout(() => {
        socket.close();
        resolve(found);
      }, timeoutMs);
    });
  });
}

/** The first IPv4 address of a named interface; an unknown name is refused with the list of known ones. */
function interfaceAddress(name: string): string {
  const all = networkInterfaces();
  const v4 = (all[name] ?? []).find((a) => a.family === 'IPv4');
  if (v4 !== undefined) return v4.address;
  const known = Object.entries(all)
    .filter(([, addrs]) => (addrs ?? []).some((a) => a.family === 'IPv4'))
    .map(([n]) => n);
  throw new GatewayError('VALIDATION_FAILED', `network interface "${name}" has no IPv4 address on this host`, {
    hint: `Use one of: ${known.join(', ')}.`,
  });
}
