import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { loadConfig } from '../internal/config/index.js';
import { consumerGroups } from '../internal/mq/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  ports?: string[];
  expose?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
  stop_grace_period?: string;
  volumes?: string[];
}

// No Docker engine runs here: the compose file is checked by reading it.
describe('deploy/docker-compose.yml', () => {
  const doc = parse(readFileSync(path.join(root, 'deploy/docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, Service>;
  };
  const services = doc.services;
  const oneShots = Object.entries(services)
    .filter(([, s]) => s.restart === 'no')
    .map(([n]) => n);

  it('holds the whole stack: datastores, broker, tracing, metrics, proxy, the migration and every process', () => {
    for (const name of [
      'mysql',
      'redis',
      'etcd',
      'rocketmq-namesrv',
      'rocketmq-broker',
      'rocketmq-init',
      'jaeger',
      'prometheus',
      'nginx',
      'migrate',
      'restful-1',
      'restful-2',
      'service',
      'consumer',
      'job',
    ]) {
      assert.ok(services[name], `no service ${name}`);
    }
    assert.equal(services.mysql?.image, 'mysql:8.0');
    assert.deepEqual(oneShots.sort(), ['migrate', 'rocketmq-init']);
  });

  it('every service has an image, every long-running one a healthcheck, and published ports never clash', () => {
    const published: string[] = [];
    for (const [name, s] of Object.entries(services)) {
      assert.ok(s.image, `${name} has no image`);
      if (!oneShots.includes(name)) assert.ok(s.healthcheck?.test?.length, `${name} has no healthcheck`);
      for (const p of s.ports ?? []) published.push(p.split(':')[0]!);
    }
    assert.equal(new Set(published).size, published.length, `a host port is published twice: ${published}`);
  });

  it('dependencies exist and wait for health (or for a one-shot to finish)', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        assert.ok(services[dep], `${name} depends on missing ${dep}`);
        if (condition === 'service_healthy') assert.ok(services[dep]?.healthcheck, `${name} waits on ${dep}'s health`);
        else assert.equal(condition, 'service_completed_successfully', `${name} -> ${dep}: ${condition}`);
        if (condition === 'service_completed_successfully') assert.ok(oneShots.includes(dep));
      }
    }
    for (const app of ['restful-1', 'restful-2', 'service', 'consumer', 'job']) {
      const deps = services[app]?.depends_on ?? {};
      assert.equal(deps.migrate?.condition, 'service_completed_successfully', `${app} starts before the migration`);
      assert.equal(deps['rocketmq-init']?.condition, 'service_completed_successfully');
    }
  });

  it("the broker's proxy accepts every consumer group's invisible time", () => {
    const broker = services['rocketmq-broker']!;
    const command = broker.command as string[];
    const file = command[command.indexOf('-pc') + 1];
    const mount = (broker.volumes ?? []).find((v) => v.split(':')[1] === file);
    assert.ok(mount, `the proxy config ${file} is not mounted`);
    const proxy = JSON.parse(readFileSync(path.join(root, 'deploy', mount.split(':')[0]!), 'utf8'));
    assert.equal(proxy.rocketMQClusterName, 'DefaultCluster');
    for (const g of Object.values(consumerGroups)) {
      assert.ok(proxy.minInvisibleTimeMillsForRecv <= g.invisibleMs, `${g.name}: ${g.invisibleMs} ms is refused`);
    }
  });

  it("the processes' environment is a valid production config, and each replica has its own instance", () => {
    const instances: string[] = [];
    for (const app of ['migrate', 'restful-1', 'restful-2', 'service', 'consumer', 'job']) {
      const env = services[app]?.environment ?? {};
      const config = loadConfig({ ...env, QIANFAN_CONFIG: path.join(root, 'config/production.yaml') });
      assert.equal(config.mysql.host, 'mysql');
      assert.equal(config.rocketmq.endpoints, 'rocketmq-broker:8081');
      // No TLS files are mounted on this stack: the service must not look for production's.
      assert.equal(config.grpc.tls.certFile, '', `${app}: grpc.tls.certFile`);
      if (app === 'migrate') continue;
      instances.push(String(config.service.instance));
      // Docker kills a container 10 s after SIGTERM unless told otherwise: the drain must fit.
      const grace = Number(/^(\d+)s$/.exec(services[app]?.stop_grace_period ?? '')?.[1] ?? 10);
      assert.ok(grace * 1000 > config.shutdown.drainTimeoutMs, `${app}: stop_grace_period ${grace} s`);
    }
    assert.equal(new Set(instances).size, instances.length, `instances repeat: ${instances}`);
  });

  it('Prometheus scrapes the admin port of every process, and nginx routes to both restful replicas', () => {
    const prom = readFileSync(path.join(root, 'deploy/prometheus/prometheus.yml'), 'utf8');
    for (const t of ['restful-1:9100', 'restful-2:9100', 'service:9101', 'consumer:9102', 'job:9103']) {
      assert.ok(prom.includes(t), `Prometheus does not scrape ${t}`);
    }
    const nginx = readFileSync(path.join(root, 'deploy/nginx/qianfan-order.conf'), 'utf8');
    assert.match(nginx, /server restful-1:8888/);
    assert.match(nginx, /server restful-2:8888/);
  });
});
