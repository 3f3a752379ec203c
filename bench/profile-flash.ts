// temp: profile restful under purchase load
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { signDevToken } from '../internal/auth/index.js';
import { createFlashSale } from '../internal/flashsale/index.js';
import { skus } from '../internal/model/index.js';
import { benchEnv, httpOk, load, openBenchContext, sleep } from './lib.js';

const { config, ctx } = await openBenchContext(benchEnv);
const tokens = await Promise.all(
  Array.from({ length: 2000 }, (_, i) =>
    signDevToken(config.auth, { userId: String(1_000_000 + i), roles: ['user'] }, 3600),
  ),
);
const skuId = ctx.ids.next();
await ctx.db.insert(skus).values({ id: skuId, title: 'bench sku', price: 9900, currency: 'CNY', available: 1_000_000 });
const sale = await createFlashSale(ctx, {
  skuId,
  price: 100,
  stock: 1_000_000,
  perUserLimit: 100,
  startsAt: new Date(Date.now() - 1000),
  endsAt: new Date(Date.now() + 3600_000),
});
const body = JSON.stringify({
  address: {
    name: 'Li Lei',
    phone: '13800000000',
    province: 'Zhejiang',
    city: 'Hangzhou',
    district: 'Xihu',
    detail: '1 Longjing Rd',
  },
});
const prof = process.env.PROF === '1' ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : [];
const child = spawn(process.execPath, [...prof, 'dist/restful/main.js'], {
  env: { ...process.env, ...benchEnv },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const ok = httpOk('http://127.0.0.1:28888/healthz');
while (!(await ok().catch(() => false))) await sleep(200);
let next = 0;
const url = `http://127.0.0.1:28888/v1/flash-sales/${sale.id}/purchases`;
const setup = () => ({
  headers: {
    authorization: `Bearer ${tokens[next++ % tokens.length]}`,
    'idempotency-key': randomUUID(),
    'content-type': 'application/json',
  },
  body,
});
await load({ url, method: 'POST', connections: 8, seconds: 2, setup });
const r = await load({ url, method: 'POST', connections: 64, seconds: Number(process.env.S ?? 10), setup });
console.log(JSON.stringify(r));
child.kill('SIGTERM');
await new Promise((res) => child.once('exit', res));
await ctx.close();
