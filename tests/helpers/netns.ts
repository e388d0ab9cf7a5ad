import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { requireTool } from './media.js';

const run = promisify(execFile);
const IP_INSTALL_HINT = 'apt-get install -y iproute2 (and run the test as root: it creates a network namespace)';

/**
 * A network namespace joined to this host by a veth pair (`hostAddress` here,
 * `peerAddress` inside), so a client in it reaches the host from a non-loopback address.
 * Needs root and iproute2; destroy() removes both, and is safe to call twice.
 */
export class NetNamespace {
  private constructor(
    readonly name: string,
    private readonly hostLink: string,
    readonly hostAddress: string,
    readonly peerAddress: string,
  ) {}

  static async create(): Promise<NetNamespace> {
    requireTool('ip', IP_INSTALL_HINT);
    const tag = randomBytes(3).toString('hex');
    const [a, b] = [randomBytes(1)[0] as number, randomBytes(1)[0] as number];
    const net = `10.${200 + (a % 50)}.${b}`;
    const ns = new NetNamespace(`psvgw-t-${tag}`, `pvt${tag}a`, `${net}.1`, `${net}.2`);
    const peerLink = `pvt${tag}b`;
    try {
      await ip('netns', 'add', ns.name);
      await ip('link', 'add', ns.hostLink, 'type', 'veth', 'peer', 'name', peerLink);
      await ip('link', 'set', peerLink, 'netns', ns.name);
      await ip('addr', 'add', `${ns.hostAddress}/30`, 'dev', ns.hostLink);
      await ip('link', 'set', ns.hostLink, 'up');
      await ns.exec('ip', ['addr', 'add', `${ns.peerAddress}/30`, 'dev', peerLink]);
      await ns.exec('ip', ['link', 'set', peerLink, 'up']);
      await ns.exec('ip', ['link', 'set', 'lo', 'up']);
    } catch (err) {
      await ns.destroy();
      throw new Error(`could not set up network namespace ${ns.name} (${IP_INSTALL_HINT}): ${String(err)}`);
    }
    return ns;
  }

  /** Runs a command inside the namespace; resolves with its stdout, whatever its exit status. */
  async exec(command: string, args: string[], timeoutMs = 15_000): Promise<string> {
    try {
      return (await run('ip', ['netns', 'exec', this.name, command, ...args], { timeout: timeoutMs, encoding: 'utf8' })).stdout;
    } catch (err) {
      const out = (err as { stdout?: string }).stdout;
      if (typeof out === 'string' && out !== '') return out;
      throw err;
    }
  }

  async destroy(): Promise<void> {
    await ip('netns', 'del', this.name).catch(() => undefined);
    // Deleting the namespace removes the peer and with it the pair; this catches a half-made one.
    await ip('link', 'del', this.hostLink).catch(() => undefined);
  }
}

async function ip(...args: string[]): Promise<void> {
  await run('ip', args, { timeout: 10_000 });
}
