#!/usr/bin/env node
// The `qianfan-order` operator CLI. Runs the compiled build when present (Docker image),
// otherwise the TypeScript sources through tsx (a checkout with dev dependencies).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/script/main.js', import.meta.url));
if (existsSync(compiled)) {
  await import(compiled);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../script/main.ts');
}
