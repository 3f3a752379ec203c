// npm run bench [name...]: runs the benchmarks under bench/ one after the other (default: all).
import { spawnSync } from 'node:child_process';

const all = ['orders', 'flash-sale', 'export'];
const chosen = process.argv.slice(2).length ? process.argv.slice(2) : all;
for (const name of chosen) {
  if (!all.includes(name)) {
    process.stderr.write(`unknown benchmark '${name}'; choose from: ${all.join(', ')}\n`);
    process.exit(2);
  }
  process.stdout.write(`\n== ${name}\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', `bench/${name}.ts`], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
