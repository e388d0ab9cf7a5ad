import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../../src/config/load.js';

const COMPOSE = fileURLToPath(new URL('../../../docker/compose.yaml', import.meta.url));

describe('docker/compose.yaml', () => {
  it("publishes the gateway's playback port but not RTMP, which only its own ffmpegs use", () => {
    const compose = parse(readFileSync(COMPOSE, 'utf8')) as { services: Record<string, { ports?: string[] }> };
    const containerPorts = (compose.services.gateway?.ports ?? []).map((p) => Number(String(p).split(':').pop()));
    const { media } = loadConfig({ env: {} });
    expect(containerPorts).toContain(media.httpPort);
    expect(containerPorts).not.toContain(media.rtmpPort);
  });
});
