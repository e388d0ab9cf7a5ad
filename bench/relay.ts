import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isRunning, LineTail, readLines, removeOnExit, spawnTracked, stopChild } from './children.js';
import { freePorts } from './ports.js';
import { pollUntil } from './stats.js';

const ENTRY = fileURLToPath(new URL('./nmsRelay.js', import.meta.url));

export interface FlowEvent {
  kind: 'FLOW' | 'DARK';
  path: string;
  at: number;
}

/** The standalone node-media-server relay (bench/nmsRelay.ts) driven over its stdin/stdout. */
export class NmsRelayProcess {
  private readonly stdoutLines: string[] = [];
  private readonly stderr = new LineTail();
  readonly events: FlowEvent[] = [];

  private constructor(
    private readonly child: ChildProcess,
    private readonly storeDir: string,
    readonly httpPort: number,
  ) {
    readLines(child.stdout, (line) => {
      const m = /^(FLOW|DARK) (\S+) ([\d.]+)$/.exec(line);
      if (m) this.events.push({ kind: m[1] as 'FLOW' | 'DARK', path: m[2] as string, at: Number(m[3]) });
      else this.stdoutLines.push(line);
    });
    readLines(child.stderr, this.stderr.push);
  }

  static async start(reconnectMs: number): Promise<NmsRelayProcess> {
    const [http, rtmp] = (await freePorts(2)) as [number, number];
    const storeDir = mkdtempSync(join(tmpdir(), 'psvgw-bench-nms-'));
    removeOnExit(storeDir);
    const child = spawnTracked(
      process.execPath,
      [ENTRY, '--http-port', String(http), '--rtmp-port', String(rtmp), '--store', storeDir, '--reconnect-ms', String(reconnectMs)],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const relay = new NmsRelayProcess(child, storeDir, http);
    await relay.expect('READY', 15_000);
    return relay;
  }

  get pid(): number {
    return this.child.pid as number;
  }

  private async expect(line: string, timeoutMs: number): Promise<void> {
    const took = await pollUntil(
      () => {
        if (!isRunning(this.child)) throw new Error('exited');
        return this.stdoutLines.includes(line);
      },
      timeoutMs,
      20,
    );
    if (took === null) throw new Error(`node-media-server relay: no "${line}" within ${timeoutMs} ms:\n${this.stderr.text()}`);
  }

  private send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  async addTask(streamPath: string, rtspUrl: string): Promise<void> {
    this.send(`add ${streamPath} ${rtspUrl}`);
    await this.expect(`ADDED ${streamPath}`, 5000);
  }

  watch(on: boolean): void {
    this.send(`watch ${on ? 'on' : 'off'}`);
  }

  httpFlvUrl(streamPath: string): string {
    return `http://127.0.0.1:${this.httpPort}${streamPath}.flv`;
  }

  wsFlvUrl(streamPath: string): string {
    return `ws://127.0.0.1:${this.httpPort}${streamPath}.flv`;
  }

  /** Waits for a FLOW/DARK event of `path` after `since`; returns its time, or null on timeout. */
  async nextEvent(kind: 'FLOW' | 'DARK', path: string, since: number, timeoutMs: number): Promise<number | null> {
    let found: number | null = null;
    await pollUntil(
      () => {
        const e = this.events.find((ev) => ev.kind === kind && ev.path === path && ev.at >= since);
        if (e) found = e.at;
        return e !== undefined;
      },
      timeoutMs,
      20,
    );
    return found;
  }

  async stop(): Promise<void> {
    this.child.stdin?.end();
    await stopChild(this.child, 5000);
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}
