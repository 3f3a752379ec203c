/**
 * The dependency rule of docs/architecture.md, checked by `npm run depcheck` and by the test suite.
 */
const ENTRY = '(restful|service|consumer|job|script)';
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'entrypoint-imports-entrypoint',
      comment: 'A process never imports another process; shared code belongs in internal/ or pkg/.',
      severity: 'error',
      from: { path: `^${ENTRY}/` },
      to: { path: `^${ENTRY}/`, pathNot: '^$1/' },
    },
    {
      name: 'internal-imports-transport',
      comment: 'internal/ is the core: no HTTP framework, gRPC server, CLI or scheduler library.',
      severity: 'error',
      from: { path: '^internal/' },
      to: { path: 'node_modules/(fastify|@fastify/|@grpc/grpc-js|@grpc/reflection|commander|node-cron)' },
    },
    {
      name: 'internal-imports-entrypoint',
      severity: 'error',
      from: { path: '^internal/' },
      to: { path: `^${ENTRY}/` },
    },
    {
      name: 'entrypoint-deep-import',
      comment: 'Entrypoints use internal/<module> only through its index.ts.',
      severity: 'error',
      from: { path: `^${ENTRY}/` },
      to: { path: '^internal/[^/]+/', pathNot: '^internal/[^/]+/index\\.ts$' },
    },
    {
      name: 'cross-module-deep-import',
      comment: 'One internal module uses another only through its index.ts.',
      severity: 'error',
      from: { path: '^internal/([^/]+)/' },
      to: { path: '^internal/[^/]+/', pathNot: ['^internal/$1/', '^internal/[^/]+/index\\.ts$'] },
    },
    {
      name: 'pkg-imports-repo',
      comment: 'pkg/ is published to other services: it imports nothing else from this repository.',
      severity: 'error',
      from: { path: '^pkg/' },
      to: { path: `^(internal|${ENTRY})/` },
    },
    {
      name: 'restful-calls-own-grpc',
      comment: 'restful/ calls use cases directly, never our own gRPC service.',
      severity: 'error',
      from: { path: '^restful/' },
      to: { path: '^pkg/client' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};
