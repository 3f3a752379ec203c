#!/usr/bin/env node
// The `qianfan-order` operator CLI. In a checkout (TypeScript sources and dev dependencies present) it
// runs the sources through tsx, so it never runs a stale build; in the Docker image (only dist/) it runs
// the compiled build.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const sources = fileURLToPath(new URL('../script/main.ts', import.meta.url));
const compiled = fileURLToPath(new URL('../dist/script/main.js', import.meta.url));
const tsx = existsSync(sources) ? await import('tsx/esm/api').catch(() => undefined) : undefined;
if (tsx) {
  tsx.register();
  await import('../script/main.ts');
} else {
  await import(compiled);
}
