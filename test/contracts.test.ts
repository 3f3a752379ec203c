import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterSaleTransitions } from '../internal/aftersale/index.js';
import { transitions } from '../internal/order/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { buildApp } from '../restful/app.js';
import { testConfig } from './helpers/config.js';
import { testLogger } from './helpers/logger.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name: string) => path.join(root, 'node_modules/.bin', name);
const run = (cmd: string, args: string[], cwd = root) => spawnSync(cmd, args, { cwd, encoding: 'utf8' });

// The contracts other teams build on: the proto (buf lint + breaking against the released baseline)
// and the served OpenAPI document (redocly lint, a generated client that type-checks).
describe('API contracts', () => {
  describe('gRPC: pkg/proto', () => {
    const proto = path.join(root, 'pkg/proto');

    it('buf lint (STANDARD) is clean', () => {
      const r = run(bin('buf'), ['lint'], proto);
      assert.equal(r.status, 0, `buf lint:\n${r.stdout}${r.stderr}`);
    });

    it('buf breaking: no incompatible change against the committed baseline (pkg/proto/baseline.binpb)', () => {
      const r = run(bin('buf'), ['breaking', '--against', 'baseline.binpb'], proto);
      assert.equal(r.status, 0, `buf breaking (update the baseline only when releasing):\n${r.stdout}${r.stderr}`);
    });

    it('buf breaking catches an incompatible change (a field retyped, another deleted)', () => {
      const copy = mkdtempSync(path.join(tmpdir(), 'qf-proto-'));
      cpSync(proto, copy, { recursive: true });
      const file = path.join(copy, 'qianfan/order/v1/order.proto');
      const changed = readFileSync(file, 'utf8')
        .replace('  int64 total_amount = 6;', '  string total_amount = 6;')
        .replace('  string tracking_no = 4;', '');
      writeFileSync(file, changed);
      const r = run(bin('buf'), ['breaking', '--against', path.join(proto, 'baseline.binpb')], copy);
      assert.equal(r.status, 100, `expected buf breaking to fail:\n${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /total_amount/);
      assert.match(r.stdout, /tracking_no|"4"/);
    });

    it('release 0.1 callers stay wire compatible (test/fixtures/proto-v0.1)', () => {
      // Only the message names of the responses changed (they are not on the wire).
      const config = JSON.stringify({
        version: 'v2',
        modules: [{ path: '.' }],
        breaking: { use: ['WIRE'], except: ['RPC_SAME_RESPONSE_TYPE'] },
      });
      const r = run(bin('buf'), ['breaking', '--against', '../../test/fixtures/proto-v0.1', '--config', config], proto);
      assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    });
  });

  describe('HTTP: /openapi.json', () => {
    let ctx: ServiceContext;
    let app: FastifyInstance;
    let doc: Record<string, any>;
    let dir: string;
    before(async () => {
      ctx = await createServiceContext(testConfig(), { process: 'restful', mq: false, logger: testLogger });
      app = await buildApp(ctx);
      doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
      dir = mkdtempSync(path.join(tmpdir(), 'qf-openapi-'));
      writeFileSync(path.join(dir, 'openapi.json'), JSON.stringify(doc));
    });
    after(async () => {
      await app?.close();
      await ctx?.close();
    });

    it('every operation has an operationId and a summary; bodies and answers are named schemas with examples', () => {
      const ops = Object.entries(doc.paths).flatMap(([p, methods]) =>
        Object.entries(methods as Record<string, any>).map(([m, op]) => ({ at: `${m.toUpperCase()} ${p}`, op })),
      );
      assert.ok(ops.length >= 20, `only ${ops.length} operations`);
      const ids = ops.map(({ at, op }) => {
        assert.match(op.operationId ?? '', /^[a-z][A-Za-z]+$/, `${at} has no operationId`);
        assert.ok(op.summary, `${at} has no summary`);
        return op.operationId;
      });
      assert.equal(new Set(ids).size, ids.length, 'operationIds repeat');
      for (const name of ['Order', 'OrderPage', 'OrderItem', 'Payment', 'Error', 'FlashSale', 'Ticket', 'Address']) {
        assert.ok(doc.components.schemas[name], `components.schemas.${name} is missing`);
      }
      for (const { at, op } of ops) {
        const media = op.requestBody?.content?.['application/json'];
        if (!media) continue;
        const name = String(media.schema.$ref ?? '').replace('#/components/schemas/', '');
        assert.ok(doc.components.schemas[name], `${at}: the request body is not a named schema`);
        assert.ok(media.example ?? doc.components.schemas[name].example, `${at}: the request body has no example`);
        for (const [code, res] of Object.entries(op.responses as Record<string, any>)) {
          const schema = res.content?.['application/json']?.schema;
          if (schema && code.startsWith('4')) assert.equal(schema.$ref, '#/components/schemas/Error', `${at} ${code}`);
        }
      }
      const get = doc.paths['/v1/orders/{id}'].get;
      assert.ok(get.responses['200'].headers.etag && get.responses['304'], 'GET order documents ETag and 304');
      assert.ok(doc.paths['/v1/orders'].post.responses['201'].headers.location, 'POST /v1/orders documents Location');
    });

    it('every POST that creates or changes something requires an Idempotency-Key (nginx retries POSTs)', () => {
      // Webhooks are deduplicated by their signature (replay guard); the sandbox payer is dev/test only.
      const exempt = ['/v1/payments/webhooks/', '/v1/sandbox/'];
      const posts = Object.entries(doc.paths).filter(
        ([p, m]) => (m as any).post && !exempt.some((e) => p.startsWith(e)),
      );
      assert.ok(posts.length >= 10, `only ${posts.length} POST routes`);
      for (const [p, m] of posts) {
        const header = ((m as any).post.parameters ?? []).find(
          (x: any) => x.in === 'header' && x.name === 'idempotency-key',
        );
        assert.ok(header?.required, `POST ${p} does not require Idempotency-Key`);
      }
    });

    it('redocly lint passes with no errors and no warnings', () => {
      const r = run(bin('redocly'), [
        'lint',
        path.join(dir, 'openapi.json'),
        '--config',
        path.join(root, 'redocly.yaml'),
        '--format',
        'json',
      ]);
      const report = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as {
        totals: { errors: number; warnings: number };
        problems: unknown[];
      };
      assert.deepEqual(report.totals, { errors: 0, warnings: 0, ignored: 0 }, JSON.stringify(report.problems, null, 1));
      assert.equal(r.status, 0);
    });

    it('a TypeScript client generated with openapi-typescript type-checks against examples/http-client', () => {
      const gen = run(bin('openapi-typescript'), [path.join(dir, 'openapi.json'), '-o', path.join(dir, 'schema.d.ts')]);
      assert.equal(gen.status, 0, gen.stderr);
      copyFileSync(path.join(root, 'examples/http-client/usage.ts'), path.join(dir, 'usage.ts'));
      const tsc = run(bin('tsc'), [
        '--noEmit',
        '--strict',
        '--target',
        'ES2022',
        '--lib',
        'ES2023,DOM',
        '--module',
        'NodeNext',
        '--moduleResolution',
        'NodeNext',
        '--skipLibCheck',
        path.join(dir, 'usage.ts'),
      ]);
      assert.equal(tsc.status, 0, `${tsc.stdout}${tsc.stderr}`);
    });
  });

  it('examples/order-client (docs/client.md) compiles against pkg/', () => {
    const r = run(bin('tsc'), ['-p', 'examples/tsconfig.json']);
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  });

  for (const [what, n, table] of [
    ['order', 0, transitions],
    ['after-sale', 1, afterSaleTransitions],
  ] as const) {
    it(`docs/api.md draws the ${what} state machine exactly as the transition table has it`, () => {
      const md = readFileSync(path.join(root, 'docs/api.md'), 'utf8');
      const block = [...md.matchAll(/```mermaid\n(stateDiagram-v2\n[\s\S]*?)```/g)][n]?.[1];
      assert.ok(block, `docs/api.md has no mermaid stateDiagram-v2 block for the ${what}`);
      const drawn = [...block.matchAll(/^\s*(\w+) --> (\w+) : (\w+)\s*$/gm)].map(([, from, to, event]) => [
        from,
        event,
        to,
      ]);
      const rows = Object.entries(table).flatMap(([from, row]) =>
        Object.entries(row as Record<string, string>).map(([event, to]) => [from, event, to]),
      );
      const key = (t: (string | undefined)[]) => t.join(' ');
      assert.deepEqual(drawn.map(key).sort(), rows.map(key).sort());
    });
  }
});
