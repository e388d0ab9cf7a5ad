import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';

const DOCKER = fileURLToPath(new URL('../../../docker/', import.meta.url));
const RULES = join(DOCKER, 'prometheus/alerts.yml');
const PROMTOOL_HINT = 'promtool is missing: install it with `apt-get install -y prometheus` (Debian package prometheus).';

function promtool(args: string[]): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { encoding: 'utf8', cwd: DOCKER });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(PROMTOOL_HINT);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Metric names a PromQL expression reads: every psvgw_* identifier, plus none of PromQL's own words. */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\b(psvgw_[a-z0-9_]+)\b/g)].map((m) => m[1] as string);
}

interface Panel {
  title: string;
  targets?: Array<{ expr: string }>;
  datasource?: { uid: string };
}

describe('ops stack in docker/', () => {
  let exposed: Set<string>;
  let tmp: string;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'psvgw-ops-'));
    const gw = await GatewayProcess.start();
    try {
      const text = await gw.metrics();
      exposed = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1] as string));
    } finally {
      await gw.stop();
      gw.cleanup();
    }
  });

  afterAll(async () => {
    await stopAllGateways();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('has alert rules promtool accepts, and that fire on what they should', () => {
    const check = promtool(['check', 'rules', RULES]);
    expect(check.output).toContain('SUCCESS');
    expect(check.status).toBe(0);
    const tested = promtool(['test', 'rules', 'prometheus/alerts.test.yml']);
    expect(tested.output).toContain('SUCCESS');
    expect(tested.status).toBe(0);
  });

  it('has a Prometheus config promtool accepts', () => {
    const config = readFileSync(join(DOCKER, 'prometheus/prometheus.yml'), 'utf8').replace('/etc/prometheus/alerts.yml', RULES);
    writeFileSync(join(tmp, 'prometheus.yml'), config);
    const check = promtool(['check', 'config', join(tmp, 'prometheus.yml')]);
    expect(check.output).toContain('SUCCESS');
    expect(check.status).toBe(0);
  });

  it('reads only metrics the gateway exposes, in the rules and in the Grafana dashboard', () => {
    expect(exposed.has('psvgw_camera_up')).toBe(true);
    const rules = parse(readFileSync(RULES, 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
    const ruleMetrics = rules.groups.flatMap((g) => g.rules.flatMap((r) => metricsIn(r.expr)));
    expect(ruleMetrics.length).toBeGreaterThan(5);
    expect([...new Set(ruleMetrics)].filter((m) => !exposed.has(m))).toEqual([]);

    const dashboard = JSON.parse(readFileSync(join(DOCKER, 'grafana/dashboards/psv-gateway.json'), 'utf8')) as {
      uid: string;
      panels: Panel[];
      templating: { list: Array<{ query: unknown; definition?: string }> };
    };
    const exprs = [
      ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
      ...dashboard.templating.list.map((v) => v.definition ?? ''),
    ];
    const used = [...new Set(exprs.flatMap(metricsIn))];
    expect(used).toContain('psvgw_incidents_active');
    expect(used.filter((m) => !exposed.has(m))).toEqual([]);
    expect(dashboard.panels.every((p) => (p.targets ?? []).length > 0)).toBe(true);
  });

  it('provisions the dashboard and its data source where compose mounts them', () => {
    const compose = parse(readFileSync(join(DOCKER, 'compose.yaml'), 'utf8')) as {
      services: Record<string, { volumes?: string[]; image?: string }>;
    };
    expect(Object.keys(compose.services).sort()).toEqual(['alertmanager', 'gateway', 'grafana', 'prometheus']);
    const grafanaVolumes = compose.services.grafana?.volumes ?? [];
    const provider = parse(readFileSync(join(DOCKER, 'grafana/provisioning/dashboards/psv-gateway.yml'), 'utf8')) as {
      providers: Array<{ options: { path: string } }>;
    };
    expect(grafanaVolumes).toContain(`./grafana/dashboards:${provider.providers[0]?.options.path}:ro`);
    const sources = parse(readFileSync(join(DOCKER, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as {
      datasources: Array<{ uid: string; url: string }>;
    };
    const prometheusVolumes = compose.services.prometheus?.volumes ?? [];
    expect(prometheusVolumes).toContain('./prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro');
    expect(sources.datasources[0]?.url).toBe('http://prometheus:9090');
    const alertmanager = parse(readFileSync(join(DOCKER, 'alertmanager/alertmanager.yml'), 'utf8')) as { route: { receiver: string } };
    expect(alertmanager.route.receiver).toBe('ops');
  });
});
