import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../internal/config/index.js';
import { READINESS_CHECK_TIMEOUT_MS } from '../internal/telemetry/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = path.join(root, 'deploy/k8s');

type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: any };

/** The kubernetes-models class of a manifest (its validate() checks it against the Kubernetes schema). */
async function modelOf(m: Manifest): Promise<new (data: unknown) => { validate(): void }> {
  const [group, version] = m.apiVersion.includes('/') ? m.apiVersion.split('/') : ['', m.apiVersion];
  const mod = await import(`kubernetes-models/${group ? `${group}/` : ''}${version}/${m.kind}`);
  return mod[m.kind] ?? mod.default;
}

// No cluster runs here: the manifests are validated against the Kubernetes schemas (kubernetes-models)
// and checked for what operators rely on.
describe('deploy/k8s', () => {
  const manifests: Manifest[] = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(readFileSync(path.join(dir, f), 'utf8')).map((d) => d.toJSON() as Manifest));
  const of = (kind: string) => manifests.filter((m) => m.kind === kind);
  const named = (kind: string, name: string) => of(kind).find((m) => m.metadata.name === name);

  it('every manifest is valid against the Kubernetes schema of its kind', async () => {
    assert.ok(manifests.length >= 20);
    for (const m of manifests) {
      const Model = await modelOf(m);
      assert.doesNotThrow(() => new Model(m).validate(), `${m.kind}/${m.metadata.name}`);
    }
    // And the validator does refuse a broken one.
    const sts = structuredClone(named('StatefulSet', 'qianfan-order-restful')!);
    sts.spec.replicas = 'two';
    const Model = await modelOf(sts);
    assert.throws(() => new Model(sts).validate());
  });

  for (const proc of ['restful', 'service', 'consumer', 'job']) {
    it(`${proc}: probes, preStop, resources, config wiring, a unique instance per replica, a PDB`, () => {
      const sts = named('StatefulSet', `qianfan-order-${proc}`);
      assert.ok(sts, `no StatefulSet for ${proc}`);
      const pod = sts.spec.template.spec;
      const c = pod.containers[0];
      assert.equal(c.readinessProbe.httpGet.path, '/readyz');
      assert.equal(c.livenessProbe.httpGet.path, '/healthz');
      assert.deepEqual(c.lifecycle.preStop.exec.command, ['sleep', '10']);
      assert.ok(pod.terminationGracePeriodSeconds > 10 + 15, 'grace must cover preStop and the drain');
      assert.ok(c.resources.requests.cpu && c.resources.limits.memory);
      assert.deepEqual(
        c.envFrom.map((e: Record<string, { name: string }>) => Object.values(e)[0]?.name),
        ['qianfan-order-config', 'qianfan-order-secrets'],
      );
      const instance = c.env.find((e: { name: string }) => e.name === 'QIANFAN_SERVICE__INSTANCE');
      assert.equal(instance.valueFrom.fieldRef.fieldPath, "metadata.labels['apps.kubernetes.io/pod-index']");
      assert.equal(sts.spec.template.metadata.annotations['prometheus.io/port'], String(c.ports.at(-1).containerPort));
      const pdb = named('PodDisruptionBudget', `qianfan-order-${proc}`);
      assert.deepEqual(pdb?.spec.selector.matchLabels, sts.spec.selector.matchLabels);
    });
  }

  it('HPAs scale restful, service and consumer within the 128 instance numbers', () => {
    const scaled = of('HorizontalPodAutoscaler').map((h) => {
      assert.ok(
        named(h.spec.scaleTargetRef.kind, h.spec.scaleTargetRef.name),
        `HPA ${h.metadata.name} targets nothing`,
      );
      assert.ok(h.spec.maxReplicas <= 128);
      return h.spec.scaleTargetRef.name;
    });
    assert.deepEqual(scaled.sort(), ['qianfan-order-consumer', 'qianfan-order-restful', 'qianfan-order-service']);
  });

  it('Services select pods that exist, on ports those pods name', () => {
    for (const svc of of('Service')) {
      const sts = of('StatefulSet').find((s) =>
        Object.entries(svc.spec.selector).every(([k, v]) => s.spec.template.metadata.labels[k] === v),
      );
      assert.ok(sts, `Service ${svc.metadata.name} selects no pods`);
      const names = sts.spec.template.spec.containers[0].ports.map((p: { name: string }) => p.name);
      for (const p of svc.spec.ports) assert.ok(names.includes(p.targetPort), `${svc.metadata.name}: ${p.targetPort}`);
    }
  });

  it('the migration Job runs migrate with the same configuration, which loads as production once real secrets replace the example', () => {
    const job = named('Job', 'qianfan-order-migrate');
    assert.deepEqual(job?.spec.template.spec.containers[0].command, ['qianfan-order', 'migrate']);
    assert.equal(named('Secret', 'qianfan-order-secrets'), undefined, 'the Secret is not in the applied set');
    const example = parseAllDocuments(
      readFileSync(path.join(dir, 'examples/secret.example.yaml'), 'utf8'),
    )[0]!.toJSON();
    for (const s of of('StatefulSet').concat(of('Job'))) {
      const refs = s.spec.template.spec.containers[0].envFrom.map(
        (e: { secretRef?: { name: string } }) => e.secretRef?.name,
      );
      assert.ok(refs.includes(example.metadata.name), `${s.metadata.name} reads the Secret`);
    }
    const env = {
      ...named('ConfigMap', 'qianfan-order-config')?.data,
      ...example.stringData,
      QIANFAN_SERVICE__INSTANCE: '3',
      QIANFAN_CONFIG: path.join(root, 'config/production.yaml'),
    };
    // The example's placeholders are refused, each by name.
    assert.throws(
      () => loadConfig(env),
      (err: Error) =>
        ['mysql.password', 'auth.jwtSecret', 'payment.webhookSecret', 'grpc.serviceTokens.0'].every((k) =>
          err.message.includes(k),
        ),
    );
    const config = loadConfig({
      ...env,
      QIANFAN_MYSQL__PASSWORD: 'from-the-secret-manager',
      QIANFAN_AUTH__JWT_SECRET: 'jwt-2d9f7b3e1a6c8d0f4b2e9a7c5d3f1b8e',
      QIANFAN_PAYMENT__WEBHOOK_SECRET: 'whsec-8f3a1c9e2b7d4f6a0c5e8b1d3f7a9c2e',
      QIANFAN_GRPC__SERVICE_TOKENS: 'checkout:svc-points-7a1c3e5f9b2d4f6a8c0e1b3d5f7a9c2e',
    });
    assert.equal(config.service.env, 'production');
    assert.equal(config.service.instance, 3);
    assert.equal(config.tracing.sampleRatio, 0.1);
    assert.deepEqual(config.http.trustProxy, ['10.0.0.0/8']);
  });

  it('readiness probes give the service longer than its own dependency checks take', () => {
    for (const s of of('StatefulSet')) {
      const probe = s.spec.template.spec.containers[0].readinessProbe;
      assert.ok(
        probe.timeoutSeconds * 1000 > READINESS_CHECK_TIMEOUT_MS,
        `${s.metadata.name}: ${probe.timeoutSeconds}s`,
      );
    }
  });
});
