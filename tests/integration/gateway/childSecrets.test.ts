/**
 * What the gateway's children can reach: a real gateway, started with PSVGW_SECRET_KEY and
 * PSVGW_ADMIN_TOKEN, a real camera with a privacy mask (masking ffmpeg), diagnostics on
 * (sampler ffmpeg) and a platform push. No child's environment holds a PSVGW_ variable,
 * and an internal token read from a child's command line plays nothing from another
 * address (a network namespace made here) nor after its lifetime.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCamera, streamUrls } from '../../helpers/cameraSteps.js';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';
import { NetNamespace } from '../../helpers/netns.js';
import { argvOf, descendants, environOf, type ProcInfo } from '../../helpers/processes.js';
import { PushReceiver, stopAllPushReceivers } from '../../helpers/pushReceiver.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';

const SECRET_KEY = 'child-secrets-test-master-key-0123456789abcdef';
/** Short, so the test can see a token expire; long enough for a restarted reader to connect on a loaded machine. */
const INTERNAL_TOKEN_SECONDS = 15;
const MASKS = [{ shape: 'rect', x: 0.1, y: 0.1, w: 0.3, h: 0.3, mode: 'fill' }];

type Role = 'ingest' | 'masking' | 'sampler' | 'push';

let gw: GatewayProcess;
let ns: NetNamespace | null = null;
let rtmp: PushReceiver;
let cameraId: string;

function roleOf(p: ProcInfo): Role | null {
  const argv = p.argv.join(' ');
  if (!argv.includes('psvgw=')) return null;
  if (argv.includes(rtmp.url)) return 'push';
  if (argv.includes('-filter_complex')) return 'masking';
  // The ingest writes the live tiers' FLV to its fd 3 through the tee muxer; the sampler reads raw pictures to it.
  if (argv.includes(' -f tee ') && argv.includes('pipe:3')) return 'ingest';
  if (argv.includes('pipe:3')) return 'sampler';
  return null;
}

/** The internal token in a child's argv, as any local user can read it from /proc. */
function tokenIn(argv: string[]): string | null {
  for (const a of argv) {
    const m = /[?&]token=([^&]+)/.exec(a);
    if (m) return m[1] as string;
  }
  return null;
}

function expiryOf(token: string): number {
  const [, , expiresAt] = JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()) as [string, string, number];
  return expiresAt;
}

const CURL = ['-s', '--max-time', '3', '-o', '-', '-w', '\n@@%{http_code}'];

/** Status and the first bytes of an HTTP-FLV request (a live stream is cut after 3 s). */
function parseCurl(out: string): { status: number; body: string } {
  const at = out.lastIndexOf('\n@@');
  return { status: Number(out.slice(at + 3)), body: out.slice(0, Math.min(at, 200)) };
}

async function fromLoopback(url: string): Promise<{ status: number; body: string }> {
  try {
    return parseCurl((await promisify(execFile)('curl', [...CURL, url], { encoding: 'latin1', timeout: 15_000 })).stdout);
  } catch (err) {
    const out = (err as { stdout?: string }).stdout;
    if (typeof out === 'string' && out.includes('\n@@')) return parseCurl(out);
    throw err;
  }
}

async function fromNamespace(url: string): Promise<{ status: number; body: string }> {
  return parseCurl(await (ns as NetNamespace).exec('curl', [...CURL, url]));
}

beforeAll(async () => {
  requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
  requireTool('curl', 'apt-get install -y curl');
  ns = await NetNamespace.create();
  const camera = await TestCamera.start();
  rtmp = await PushReceiver.rtmp('live', 'sk-child-secrets');
  gw = await GatewayProcess.start({
    // Reachable from the namespace: the token, not the bind address, must keep it out.
    env: { PSVGW_SECRET_KEY: SECRET_KEY, PSVGW_MEDIA_HOST: '0.0.0.0' },
    mediaYaml: `internalTokenSeconds: ${INTERNAL_TOKEN_SECONDS}`,
  });
  cameraId = (await addCamera(gw, camera.url, 'Child secrets', { masks: MASKS, pushTargets: [rtmp.url] })).id;
}, 60_000);

afterAll(async () => {
  await stopAllGateways();
  await stopAllPushReceivers();
  await stopAllTestCameras();
  await ns?.destroy();
});

describe("the gateway's children", () => {
  it('have no PSVGW_ variable in their environment: ingest, masking, sampler and push', async () => {
    const gatewayEnv = environOf(gw.pid);
    expect(gatewayEnv?.get('PSVGW_SECRET_KEY')).toBe(SECRET_KEY);
    expect(gatewayEnv?.has('PSVGW_ADMIN_TOKEN')).toBe(true);

    const seen = new Map<Role, number>();
    const leaks: string[] = [];
    let checked = 0;
    await gw.waitFor(
      'ingest, masking, sampler and push children',
      () => {
        for (const child of descendants(gw.pid)) {
          const env = environOf(child.pid);
          if (env === null) continue;
          checked += 1;
          const secret = [...env.keys()].filter((k) => k.startsWith('PSVGW_'));
          if (secret.length > 0) leaks.push(`${child.argv.slice(0, 3).join(' ')} (pid ${child.pid}): ${secret.join(', ')}`);
          const role = roleOf(child);
          if (role) seen.set(role, child.pid);
        }
        return seen.size === 4 || leaks.length > 0;
      },
      90_000,
      200,
    );
    console.log(`children checked: ${checked} looks, roles ${[...seen.keys()].join(', ')}`);
    expect(leaks).toEqual([]);
    expect([...seen.keys()].sort()).toEqual(['ingest', 'masking', 'push', 'sampler']);
  });

  it('are counted as internal consumers of the tiers they read, never as viewers', async () => {
    const consumers = (tier: string) => gw.metric('psvgw_internal_consumers', { camera_id: cameraId, tier });
    // Masking and sampler read raw, the push reads shared.
    await gw.waitFor(
      'internal consumers of raw ≥ 2 and of shared ≥ 1',
      async () => ((await consumers('raw')) ?? 0) >= 2 && ((await consumers('shared')) ?? 0) >= 1,
      60_000,
    );
    expect(await gw.metric('psvgw_stream_viewers', { camera_id: cameraId, tier: 'raw' })).toBeUndefined();
    expect(await gw.metric('psvgw_stream_viewers', { camera_id: cameraId, tier: 'shared' })).toBeUndefined();
  });

  it('leak no usable token: one copied from argv is refused from outside loopback and after its lifetime', async () => {
    // A fresh token: kill the sampler, and read the token from the argv of the one that replaces it.
    const samplers = () => descendants(gw.pid).filter((p) => p.argv.includes('pipe:3') && tokenIn(p.argv) !== null);
    await gw.waitFor('a running sampler', () => samplers().length > 0, 60_000);
    const old = (samplers()[0] as ProcInfo).pid;
    process.kill(old, 'SIGKILL');
    let sampler: ProcInfo | undefined;
    await gw.waitFor('a restarted sampler', () => (sampler = samplers().find((p) => p.pid !== old)) !== undefined, 60_000, 50);
    const token = tokenIn((sampler as ProcInfo).argv) as string;
    const expiresAt = expiryOf(token);
    expect(expiresAt - Date.now() / 1000).toBeGreaterThan(INTERNAL_TOKEN_SECONDS - 5);
    expect(expiresAt - Date.now() / 1000).toBeLessThanOrEqual(INTERNAL_TOKEN_SECONDS);

    const path = `/raw/${cameraId}.flv?token=${token}`;
    const local = await fromLoopback(`http://127.0.0.1:${gw.ports.flv}${path}`);
    expect(local.status).toBe(200);
    expect(local.body.startsWith('FLV')).toBe(true);

    const outside = await fromNamespace(`http://${(ns as NetNamespace).hostAddress}:${gw.ports.flv}${path}`);
    expect(outside).toEqual({ status: 403, body: 'playback token refused: internal token used from outside loopback\n' });
    // The address is reachable from the namespace: a viewer's token plays there.
    const viewer = new URL((await streamUrls(gw, cameraId)).shared.httpFlv);
    viewer.hostname = (ns as NetNamespace).hostAddress;
    const played = await fromNamespace(viewer.toString());
    expect(played.status).toBe(200);
    expect(played.body.startsWith('FLV')).toBe(true);

    await gw.waitFor('the copied token to expire', () => Date.now() / 1000 > expiresAt + 1, (INTERNAL_TOKEN_SECONDS + 5) * 1000, 250);
    const expired = await fromLoopback(`http://127.0.0.1:${gw.ports.flv}${path}`);
    expect(expired).toEqual({ status: 403, body: 'playback token refused: token expired\n' });
    // The sampler that connected with it before is not cut at expiry.
    expect(argvOf((sampler as ProcInfo).pid)).not.toBeNull();
  });
});
