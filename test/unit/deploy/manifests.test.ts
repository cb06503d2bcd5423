import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { loadConfig } from '../../../src/config/load.ts';
import { DRAIN_MS } from '../../../src/http/drain.ts';

// A shutdown answers requests in flight for up to DRAIN_MS, then saves and makes its last OTLP push: the platform's
// grace period must leave room for all of it, or the kill comes before the last save.
const SHUTDOWN_ROOM_S = DRAIN_MS / 1000 + 15;

const ROOT = join(import.meta.dirname, '../../..');
const DEPLOY = join(ROOT, 'deploy');
const K8S = join(DEPLOY, 'kubernetes');
const scratch = mkdtempSync(join(tmpdir(), 'tie-manifests-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

type Obj = Record<string, unknown>;

/** The value at a path of keys in parsed YAML; throws when a step is missing, so a wrong shape fails loudly. */
function at(value: unknown, ...path: Array<string | number>): unknown {
  let v = value;
  for (const key of path) {
    if (typeof v !== 'object' || v === null || !(key in v)) throw new Error(`missing ${path.join('.')} (at ${String(key)})`);
    v = (v as Record<string | number, unknown>)[key];
  }
  return v;
}
const obj = (value: unknown, ...path: Array<string | number>): Obj => at(value, ...path) as Obj;
const list = (value: unknown, ...path: Array<string | number>): Obj[] => {
  const v = at(value, ...path);
  if (!Array.isArray(v)) throw new Error(`${path.join('.')} is not a list`);
  return v as Obj[];
};
const strings = (value: unknown, ...path: Array<string | number>): string[] => list(value, ...path) as unknown as string[];
const text = (value: unknown, ...path: Array<string | number>): string => String(at(value, ...path));
/** A path that may be absent. */
function maybe(value: unknown, ...path: Array<string | number>): unknown {
  try {
    return at(value, ...path);
  } catch {
    return undefined;
  }
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join(dir, f));
}

/** Every document of a YAML file; throws on a syntax error or a duplicate key. */
function docs(file: string): Obj[] {
  return parseAllDocuments(readFileSync(file, 'utf8'), { uniqueKeys: true }).map((d) => {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as Obj;
  });
}

function one(file: string): Obj {
  const [d] = docs(file);
  return d!;
}

describe('every YAML file parses', () => {
  const files = [...yamlFiles(DEPLOY), ...yamlFiles(join(ROOT, 'grafana/provisioning')), ...yamlFiles(join(ROOT, 'config/prometheus'))];

  it.each(files.map((f) => [f.slice(ROOT.length + 1), f]))('%s', (_name, file) => {
    const parsed = docs(file);
    expect(parsed.length).toBeGreaterThan(0);
    for (const d of parsed) expect(typeof d).toBe('object');
  });

  it('rejects a file with a duplicate key', () => {
    const file = join(scratch, 'dup.yaml');
    writeFileSync(file, 'a: 1\na: 2\n');
    expect(() => docs(file)).toThrow(/unique|duplicate/i);
  });
});

describe('kubernetes', () => {
  const kustomization = one(join(K8S, 'kustomization.yaml'));
  const resources = strings(kustomization, 'resources').map((r) => join(K8S, r));
  const objects = resources.flatMap((f) => docs(f));
  const byKind = (kind: string): Obj => {
    const found = objects.find((o) => o['kind'] === kind);
    if (!found) throw new Error(`no ${kind}`);
    return found;
  };
  const sts = byKind('StatefulSet');
  const pod = obj(sts, 'spec', 'template');
  const container = list(pod, 'spec', 'containers')[0]!;
  const port = list(container, 'ports').find((p) => p['name'] === 'http')!;
  const configMap = byKind('ConfigMap');
  const service = byKind('Service');
  const config = parse(text(configMap, 'data', 'config.yaml')) as Obj;

  it('kustomization lists every manifest in the directory, and each exists', () => {
    const manifests = readdirSync(K8S).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...strings(kustomization, 'resources')].sort()).toEqual(manifests.sort());
    for (const f of resources) expect(existsSync(f), f).toBe(true);
  });

  it('every object has apiVersion, kind, metadata.name and the app label', () => {
    for (const o of objects) {
      expect(o['apiVersion'], JSON.stringify(o).slice(0, 80)).toMatch(/^(v1|apps\/v1)$/);
      expect(o['kind']).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(text(o, 'metadata', 'name')).toBe('twilio-insights-exporter');
      expect(text(o, 'metadata', 'labels', 'app.kubernetes.io/name')).toBe('twilio-insights-exporter');
    }
    expect(objects.map((o) => o['kind']).sort()).toEqual(['ConfigMap', 'Service', 'StatefulSet']);
  });

  it('the StatefulSet selects its own pods, is governed by the Service, and shards by replica count', () => {
    expect(obj(pod, 'metadata', 'labels')).toMatchObject(obj(sts, 'spec', 'selector', 'matchLabels'));
    expect(text(sts, 'spec', 'serviceName')).toBe(text(service, 'metadata', 'name'));
    expect(strings(container, 'args')).toContain(`--total-shards=${text(sts, 'spec', 'replicas')}`);
    expect(list(container, 'env')).toContainEqual({ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
    expect(text(container, 'image')).toBe(text(kustomization, 'images', 0, 'name'));
  });

  it('status callbacks are forwarded to each pod by its stable name under the governing Service, on the container port', () => {
    const peer = text(config, 'webhooks', 'shard_peer_url');
    expect(peer).toBe(`http://${text(sts, 'metadata', 'name')}-{ordinal}.${text(sts, 'spec', 'serviceName')}:${String(port['containerPort'])}`);
    // A replica that is not ready (Twilio unreachable, say) still takes its callbacks: its name must resolve.
    expect(obj(service, 'spec')['publishNotReadyAddresses']).toBe(true);
  });

  it('the Service selects the pods and targets the container port', () => {
    expect(obj(pod, 'metadata', 'labels')).toMatchObject(obj(service, 'spec', 'selector'));
    const sp = list(service, 'spec', 'ports')[0]!;
    expect(sp['targetPort']).toBe(port['name']);
    expect(sp['port']).toBe(port['containerPort']);
  });

  it('gives a shutdown time to drain requests, save and push before the kill', () => {
    expect(at(pod, 'spec', 'terminationGracePeriodSeconds')).toBeGreaterThanOrEqual(SHUTDOWN_ROOM_S);
  });

  it('probes /-/healthy (liveness) and /-/ready (readiness) on the metrics port', () => {
    expect(obj(container, 'livenessProbe', 'httpGet')).toEqual({ path: '/-/healthy', port: 'http' });
    expect(obj(container, 'readinessProbe', 'httpGet')).toEqual({ path: '/-/ready', port: 'http' });
    expect(port['containerPort']).toBe(9487);
  });

  it('carries scrape annotations matching the port and telemetry path of its config', () => {
    expect(obj(pod, 'metadata', 'annotations')).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': text(port, 'containerPort'),
      'prometheus.io/path': text(config, 'web', 'telemetry_path'),
    });
    expect(text(config, 'web', 'listen_address')).toBe(`:${text(port, 'containerPort')}`);
  });

  it('runs as non-root with a read-only root file system and no privilege escalation', () => {
    expect(at(pod, 'spec', 'securityContext', 'runAsNonRoot')).toBe(true);
    expect(at(pod, 'spec', 'securityContext', 'runAsUser')).not.toBe(0);
    expect(obj(container, 'securityContext')).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  });

  it('mounts the ConfigMap where the args read the config, and the referenced Secret where the config reads the token', () => {
    const volumes = new Map(list(pod, 'spec', 'volumes').map((v) => [text(v, 'name'), v]));
    const claims = new Set(list(sts, 'spec', 'volumeClaimTemplates').map((c) => text(c, 'metadata', 'name')));
    const mounts = list(container, 'volumeMounts');
    for (const m of mounts) expect(volumes.has(text(m, 'name')) || claims.has(text(m, 'name')), text(m, 'name')).toBe(true);
    const configMount = mounts.find((m) => maybe(volumes.get(text(m, 'name')), 'configMap') !== undefined)!;
    expect(text(volumes.get(text(configMount, 'name')), 'configMap', 'name')).toBe(text(configMap, 'metadata', 'name'));
    expect(strings(container, 'args')).toContain(`--config.file=${text(configMount, 'mountPath')}/config.yaml`);
    const secretMount = mounts.find((m) => maybe(volumes.get(text(m, 'name')), 'secret') !== undefined)!;
    const secretName = text(volumes.get(text(secretMount, 'name')), 'secret', 'secretName');
    expect(secretName).toBe('twilio-insights-exporter');
    expect(readFileSync(join(K8S, 'kustomization.yaml'), 'utf8')).toContain(`kubectl create secret generic ${secretName}`);
    for (const a of list(config, 'accounts')) expect(dirname(text(a, 'auth_token_file'))).toBe(text(secretMount, 'mountPath'));
  });

  it('keeps the state file on a per-shard volume claim, where the state path points', () => {
    const env = list(container, 'env').find((e) => text(e, 'name') === 'TWILIO_INSIGHTS_EXPORTER_STATE_PATH')!;
    const mount = list(container, 'volumeMounts').find((m) => text(m, 'name') === 'state')!;
    expect(dirname(text(env, 'value'))).toBe(text(mount, 'mountPath'));
    expect(list(sts, 'spec', 'volumeClaimTemplates').map((c) => text(c, 'metadata', 'name'))).toEqual(['state']);
  });

  it('the ConfigMap holds a configuration the exporter accepts (with the Secret\u2019s file present)', () => {
    const copy = structuredClone(config);
    const token = join(scratch, 'auth_token');
    writeFileSync(token, 'token-from-the-secret\n');
    for (const a of list(copy, 'accounts')) a['auth_token_file'] = token;
    const file = join(scratch, 'k8s-config.yaml');
    writeFileSync(file, stringify(copy));
    const loaded = loadConfig({ file, env: {} });
    expect(loaded.discovery.enabled).toBe(true);
    expect(loaded.web.listenAddress).toBe(':9487');
  });
});

describe('docker compose stack', () => {
  const compose = one(join(DEPLOY, 'compose.yaml'));
  const services = obj(compose, 'services') as Record<string, Obj>;
  const service = (name: string): Obj => obj(services, name);
  const volumesOf = (s: Obj): string[] => (maybe(s, 'volumes') as string[] | undefined) ?? [];

  it('gives the exporter\u2019s shutdown time to drain requests, save and push before the kill', () => {
    const grace = /^(\d+)s$/.exec(String(maybe(service('exporter'), 'stop_grace_period')));
    expect(Number(grace?.[1] ?? 0)).toBeGreaterThanOrEqual(SHUTDOWN_ROOM_S);
  });

  it('runs the exporter, Prometheus, Grafana and an OpenTelemetry Collector', () => {
    expect(Object.keys(services).sort()).toEqual(['exporter', 'grafana', 'otel-collector', 'prometheus']);
    for (const [name, s] of Object.entries(services)) {
      expect(s['image'] ?? s['build'], name).toBeTruthy();
      for (const dep of (maybe(s, 'depends_on') as string[] | undefined) ?? []) expect(Object.keys(services), `${name} depends on ${dep}`).toContain(dep);
    }
  });

  it('builds the exporter from the repository\u2019s Dockerfile', () => {
    expect(existsSync(join(resolve(DEPLOY, text(service('exporter'), 'build', 'context')), text(service('exporter'), 'build', 'dockerfile')))).toBe(true);
  });

  it('mounts only files that exist in the repository', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const v of volumesOf(s)) {
        const source = v.split(':')[0]!;
        if (!source.startsWith('.')) continue;
        expect(existsSync(resolve(DEPLOY, source)), `${name}: ${source}`).toBe(true);
      }
    }
  });

  it('wires the services to each other: scrape target, rules, OTLP endpoint, data source and dashboards', () => {
    const mountOf = (name: string, source: string): string => {
      const v = volumesOf(service(name)).find((x) => resolve(DEPLOY, x.split(':')[0]!) === resolve(ROOT, source));
      if (!v) throw new Error(`${name} does not mount ${source}`);
      return v.split(':')[1]!;
    };
    // Prometheus scrapes the exporter service on its listen port and loads the rules beside its config.
    const promConfigPath = mountOf('prometheus', 'deploy/prometheus/prometheus.yml');
    const promConfig = one(join(DEPLOY, 'prometheus/prometheus.yml'));
    const job = list(promConfig, 'scrape_configs').find((j) => j['job_name'] === 'twilio-insights-exporter')!;
    expect(strings(job, 'static_configs', 0, 'targets')).toEqual(['exporter:9487']);
    expect(strings(service('exporter'), 'command')).toContain('--web.listen-address=:9487');
    expect(mountOf('prometheus', 'config/prometheus/alerts.yml')).toBe(join(dirname(promConfigPath), text(promConfig, 'rule_files', 0)));
    expect(strings(service('prometheus'), 'command')).toContain('--enable-feature=exemplar-storage');
    // The exporter pushes OTLP to the collector's HTTP receiver.
    const collector = one(join(DEPLOY, 'otel-collector/config.yaml'));
    const receiverPort = text(collector, 'receivers', 'otlp', 'protocols', 'http', 'endpoint').split(':')[1];
    expect(text(service('exporter'), 'environment', 'TWILIO_INSIGHTS_EXPORTER_OTLP_ENDPOINT')).toBe(`http://otel-collector:${receiverPort}/v1/metrics`);
    expect(strings(service('otel-collector'), 'command').join(' ')).toContain(mountOf('otel-collector', 'deploy/otel-collector/config.yaml'));
    // Grafana reads the provisioning and the dashboards where the provisioning says they are.
    const ds = one(join(ROOT, 'grafana/provisioning/datasources/prometheus.yaml'));
    expect(text(ds, 'datasources', 0, 'url')).toBe('http://prometheus:9090');
    expect(mountOf('grafana', 'grafana/provisioning/datasources')).toBe('/etc/grafana/provisioning/datasources');
    expect(mountOf('grafana', 'grafana/provisioning/dashboards')).toBe('/etc/grafana/provisioning/dashboards');
    const provider = one(join(ROOT, 'grafana/provisioning/dashboards/twilio-insights-exporter.yaml'));
    expect(mountOf('grafana', 'grafana/dashboards')).toBe(text(provider, 'providers', 0, 'options', 'path'));
  });

  it('the collector\u2019s pipelines use only components it defines', () => {
    const collector = one(join(DEPLOY, 'otel-collector/config.yaml'));
    const pipelines = obj(collector, 'service', 'pipelines') as Record<string, Obj>;
    expect(Object.keys(pipelines)).toContain('metrics');
    for (const p of Object.values(pipelines)) {
      for (const kind of ['receivers', 'processors', 'exporters']) {
        for (const id of (maybe(p, kind) as string[] | undefined) ?? []) expect(Object.keys(obj(collector, kind)), `${kind} ${id}`).toContain(id);
      }
    }
    for (const id of (maybe(collector, 'service', 'extensions') as string[] | undefined) ?? []) expect(Object.keys(obj(collector, 'extensions'))).toContain(id);
  });
});

describe('grafana provisioning', () => {
  it('provisions a Prometheus data source and a file provider for the dashboards', () => {
    const ds = one(join(ROOT, 'grafana/provisioning/datasources/prometheus.yaml'));
    expect(ds['apiVersion']).toBe(1);
    expect(list(ds, 'datasources')).toHaveLength(1);
    expect(obj(ds, 'datasources', 0)).toMatchObject({ type: 'prometheus', access: 'proxy' });
    const dash = one(join(ROOT, 'grafana/provisioning/dashboards/twilio-insights-exporter.yaml'));
    expect(dash['apiVersion']).toBe(1);
    expect(text(dash, 'providers', 0, 'type')).toBe('file');
    expect(text(dash, 'providers', 0, 'options', 'path')).toMatch(/^\//);
  });
});
