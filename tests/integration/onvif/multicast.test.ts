import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../../helpers/cli.js';
import { OnvifDeviceSim, stopAllOnvifSims } from '../../helpers/onvifDevice.js';

/**
 * Real multicast WS-Discovery (239.255.255.250:3702) through the onvif package. It runs in
 * a network namespace of its own, on that namespace's loopback, so no probe ever leaves
 * on the machine's real interfaces.
 */
const NS = `psvgw-onvif-${process.pid}`;
const NETNS_HINT =
  'This test needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN) and iproute2 to make a network namespace: apt-get install -y iproute2, and run the tests as root.';

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
  if (r.error) throw new Error(`ip ${args.join(' ')}: ${r.error.message}. ${NETNS_HINT}`);
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${r.stderr.trim()}. ${NETNS_HINT}`);
}

function discoverInNamespace(args: string[]): Promise<CliRun> {
  return runCli(['discover', '--local', '--json', ...args], { prefix: ['ip', 'netns', 'exec', NS], timeoutMs: 30_000 });
}

describe('multicast WS-Discovery in a network namespace', () => {
  beforeAll(async () => {
    ip('netns', 'add', NS);
    ip('-n', NS, 'link', 'set', 'lo', 'up');
    ip('-n', NS, 'link', 'set', 'lo', 'multicast', 'on');
    ip('-n', NS, 'route', 'add', '224.0.0.0/4', 'dev', 'lo');
    for (const n of [1, 2]) {
      await OnvifDeviceSim.start(
        {
          discovery: 'multicast',
          endpointRef: `urn:uuid:0f7e3c1a-0000-4000-8000-00000000b00${n}`,
          model: `SV-IPC-21${n}0`,
          profiles: [],
        },
        NS,
      );
    }
  });

  afterAll(async () => {
    await stopAllOnvifSims();
    spawnSync('ip', ['netns', 'del', NS]);
  });

  it('finds every device on the group once, merged over repeated probes, with an empty list when none answers', async () => {
    const started = Date.now();
    const r = await discoverInNamespace(['--timeout', '1.5']);
    console.log(`multicast discovery of 2 devices: ${Date.now() - started} ms including CLI start-up; ${/found .*/.exec(r.stderr)?.[0]}`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/probing for ONVIF devices from this machine \(multicast\)/);
    const devices = (JSON.parse(r.stdout) as Array<{ endpointRef: string; model: string; infoSource: string; address: string }>).sort(
      (a, b) => a.endpointRef.localeCompare(b.endpointRef),
    );
    expect(devices.map((d) => [d.endpointRef, d.model, d.infoSource, d.address])).toEqual([
      ['urn:uuid:0f7e3c1a-0000-4000-8000-00000000b001', 'SV-IPC-2110', 'scopes', '127.0.0.1'],
      ['urn:uuid:0f7e3c1a-0000-4000-8000-00000000b002', 'SV-IPC-2120', 'scopes', '127.0.0.1'],
    ]);

    // The same probe bound to a named interface.
    const onLo = await discoverInNamespace(['--timeout', '1', '--interface', 'lo']);
    expect(onLo.status, onLo.stderr).toBe(0);
    expect((JSON.parse(onLo.stdout) as unknown[]).length).toBe(2);

    const unknown = await discoverInNamespace(['--timeout', '1', '--interface', 'nosuch0']);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/network interface "nosuch0" has no IPv4 address on this host/);
    expect(unknown.stderr).toMatch(/how to fix: Use one of: lo\./);

    await stopAllOnvifSims();
    const none = await discoverInNamespace(['--timeout', '1']);
    expect(none.status, none.stderr).toBe(0);
    expect(JSON.parse(none.stdout)).toEqual([]);
  });
});
