import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A peer outside this host's loopback: a network namespace joined to the host by a veth
 * pair, so its connections arrive on a non-loopback address as a remote client's would.
 */
export interface OutsidePeer {
  /** The host's address as the peer sees it (the host end of the veth pair). */
  hostAddress: string;
  /**
   * Opens `count` TCP connections to the host's `port` from inside the namespace, holds
   * them `holdMs`, and says what became of each: 'open' (still open at the end),
   * 'closed' (the host closed it), 'refused', or another error code.
   */
  connect(port: number, opts?: { count?: number; holdMs?: number }): Promise<string[]>;
}

export const OUTSIDE_PEER_HINT =
  'This test creates a network namespace: run it as root (or with CAP_NET_ADMIN) with iproute2 installed (apt-get install iproute2).';

/** Runs `fn` with a fresh namespace; the namespace and its veth pair are removed afterwards, also on failure. */
export async function withOutsidePeer<T>(fn: (peer: OutsidePeer) => Promise<T>): Promise<T> {
  requireNetnsSupport();
  const tag = `${process.pid % 100000}${Math.floor(Math.random() * 100)}`;
  const ns = `psvgw-peer-${tag}`;
  const hostIf = `pvh${tag}`;
  const peerIf = `pvp${tag}`;
  const subnet = `10.${200 + (process.pid % 50)}.${Math.floor(Math.random() * 250)}`;
  const hostAddress = `${subnet}.1`;
  try {
    ip('netns', 'add', ns);
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', peerIf);
    ip('link', 'set', peerIf, 'netns', ns);
    ip('addr', 'add', `${hostAddress}/30`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    ip('-n', ns, 'addr', 'add', `${subnet}.2/30`, 'dev', peerIf);
    ip('-n', ns, 'link', 'set', peerIf, 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    return await fn({
      hostAddress,
      connect: (port, opts = {}) => connectFrom(ns, hostAddress, port, opts.count ?? 1, opts.holdMs ?? 1000),
    });
  } finally {
    // Deleting the namespace deletes the peer end, and with it the host end of the pair.
    tryIp('netns', 'del', ns);
    tryIp('link', 'del', hostIf);
  }
}

function requireNetnsSupport(): void {
  if (process.getuid?.() !== 0) throw new Error(`Not running as root. ${OUTSIDE_PEER_HINT}`);
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    throw new Error(`The ip command is missing. ${OUTSIDE_PEER_HINT}`);
  }
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function tryIp(...args: string[]): void {
  try {
    ip(...args);
  } catch {
    /* already gone */
  }
}

/** A small node script run inside the namespace; prints one JSON array of outcomes. */
const CONNECT_SCRIPT = `
const net = require('node:net');
const [host, port, count, holdMs] = process.argv.slice(1);
const outcomes = [];
const sockets = [];
for (let i = 0; i < Number(count); i++) {
  outcomes.push('pending');
  const s = net.connect({ host, port: Number(port) });
  sockets.push(s);
  s.on('connect', () => { if (outcomes[i] === 'pending') outcomes[i] = 'open'; });
  s.on('error', (e) => { outcomes[i] = outcomes[i] === 'open' ? 'closed' : e.code === 'ECONNREFUSED' ? 'refused' : e.code; });
  s.on('close', () => { if (outcomes[i] === 'open') outcomes[i] = 'closed'; });
  s.resume();
}
setTimeout(() => { console.log(JSON.stringify(outcomes)); sockets.forEach((s) => s.destroy()); process.exit(0); }, Number(holdMs));
`;

async function connectFrom(ns: string, host: string, port: number, count: number, holdMs: number): Promise<string[]> {
  const { stdout } = await run(
    'ip',
    ['netns', 'exec', ns, process.execPath, '-e', CONNECT_SCRIPT, host, String(port), String(count), String(holdMs)],
    { timeout: holdMs + 30_000 },
  );
  return JSON.parse(stdout.trim()) as string[];
}
