import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { consumerGroups, testGroups, testTopics, topics } from '../internal/mq/index.js';

const root = process.cwd();
const DIRS = ['restful', 'service', 'consumer', 'job', 'script', 'internal', 'pkg'];

function depcruise(cwd: string) {
  return spawnSync(
    path.join(root, 'node_modules/.bin/depcruise'),
    ['--config', path.join(root, '.dependency-cruiser.cjs'), ...DIRS.filter((d) => d)],
    { cwd, encoding: 'utf8' },
  );
}

function tsv(file: string): string[][] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => l.split('\t'));
}

describe('architecture', () => {
  it('the dependency rule holds for the whole tree', () => {
    const r = depcruise(root);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it('whole order rows are read with orderColumns, never select() (which adds the search-only phone_last4)', () => {
    const offenders = [...DIRS, 'test', 'bench'].flatMap((dir) =>
      (readdirSync(path.join(root, dir), { recursive: true }) as string[])
        .filter((f) => f.endsWith('.ts') && !f.includes('node_modules') && !f.startsWith('gen'))
        .filter((f) => /\.select\(\)\s*\.from\(orders\b/.test(readFileSync(path.join(root, dir, f), 'utf8')))
        .map((f) => `${dir}/${f}`),
    );
    assert.deepEqual(offenders, []);
  });

  it('the dependency rule catches an entrypoint importing another and internal importing a transport', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qf-depcheck-'));
    for (const d of DIRS) mkdirSync(path.join(dir, d), { recursive: true });
    cpSync(path.join(root, 'tsconfig.json'), path.join(dir, 'tsconfig.json'));
    mkdirSync(path.join(dir, 'node_modules/fastify'), { recursive: true });
    writeFileSync(path.join(dir, 'node_modules/fastify/package.json'), '{"name":"fastify","main":"index.js"}');
    writeFileSync(path.join(dir, 'node_modules/fastify/index.js'), 'module.exports = {};');
    writeFileSync(path.join(dir, 'service/x.ts'), 'export const x = 1;\n');
    writeFileSync(path.join(dir, 'restful/y.ts'), "import { x } from '../service/x.js';\nexport const y = x;\n");
    writeFileSync(path.join(dir, 'internal/z.ts'), "import f from 'fastify';\nexport const z = f;\n");
    const r = depcruise(dir);
    assert.notEqual(r.status, 0);
    assert.match(r.stdout, /entrypoint-imports-entrypoint: restful\/y\.ts → service\/x\.ts/);
    assert.match(r.stdout, /internal-imports-transport: internal\/z\.ts → node_modules\/fastify/);
  });

  it('the broker provisioning creates exactly the topic and group catalog of internal/mq', () => {
    const wantTopics = [...Object.values(topics), ...Object.values(testTopics)].map((t) => [t.name, t.type]);
    assert.deepEqual(tsv(path.join(root, 'deploy/rocketmq/topics.tsv')), wantTopics);
    const wantGroups = [...Object.values(consumerGroups), ...Object.values(testGroups)].map((g) => [
      g.name,
      String(g.orderly),
      String(g.maxRetries),
      String(g.dlq),
    ]);
    assert.deepEqual(tsv(path.join(root, 'deploy/rocketmq/groups.tsv')), wantGroups);
  });

  it('pkg/gen is up to date with pkg/proto', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'qf-gen-'));
    const r = spawnSync(
      path.join(root, 'node_modules/.bin/buf'),
      ['generate', 'pkg/proto', '--template', 'pkg/proto/buf.gen.yaml', '--output', out],
      { cwd: root, encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    const d = spawnSync('diff', ['-r', path.join(out, 'pkg/gen'), path.join(root, 'pkg/gen')], { encoding: 'utf8' });
    assert.equal(d.status, 0, `pkg/gen is stale against pkg/proto: run npm run proto\n${d.stdout}`);
  });
});
