/** The slice of node-media-server 4.4 (CommonJS, untyped) that the gateway uses. */
declare module 'node-media-server' {
  import type { IncomingMessage } from 'node:http';

  export interface NmsSession {
    id: string;
    /** "address:port" of the peer; empty for the server's own internal sessions. */
    ip: string;
    protocol: 'rtmp' | 'flv' | string;
    isPublisher: boolean;
    streamApp: string;
    streamName: string;
    streamPath: string;
    streamQuery: Record<string, string | string[] | undefined>;
    req?: IncomingMessage;
    res?: unknown;
    socket?: { destroy(): void; end(): void };
    inBytes: number;
    outBytes: number;
    close(): void;
  }

  export interface NmsConfig {
    bind?: string;
    rtmp?: { port: number };
    http?: { port: number };
    auth?: { play?: boolean; publish?: boolean; secret?: string };
    webadmin?: { enable: boolean };
    store?: { path?: string };
    record?: { auto?: boolean; path?: string };
    notify?: { url?: string };
  }

  type NmsEvent = 'prePlay' | 'postPlay' | 'donePlay' | 'prePublish' | 'postPublish' | 'donePublish';

  export default class NodeMediaServer {
    constructor(config: NmsConfig, configPath?: string);
    on(event: NmsEvent, listener: (session: NmsSession) => void): void;
    run(): Promise<void>;
    stop(): Promise<void>;
  }
}
