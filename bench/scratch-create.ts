import { skus } from '../internal/model/index.js';
import { createOrder } from '../internal/order/index.js';
import { benchEnv, closedLoop, openBenchContext } from './lib.js';
import { rawCreate } from './orders.js';

const { ctx } = await openBenchContext(benchEnv);
const skuIds = [ctx.ids.next(), ctx.ids.next()].sort((a, b) => (a < b ? -1 : 1));
await ctx.db
  .insert(skus)
  .values(skuIds.map((id, i) => ({ id, title: `s${i}`, price: 4900, currency: 'CNY', available: 1e8 })));
const address = {
  name: 'Li Lei',
  phone: '13800000000',
  province: 'Zhejiang',
  city: 'Hangzhou',
  district: 'Xihu',
  detail: '1 Longjing Rd',
};
const items = skuIds.map((skuId) => ({ skuId, quantity: 1 }));
let u = 1n;
for (const round of [1, 2]) {
  const raw = await closedLoop(32, 8, () => rawCreate(ctx, skuIds));
  const real = await closedLoop(32, 8, () => createOrder(ctx, { userId: u++, items, address, source: 'APP' }));
  console.log(
    `round ${round} raw ${raw.rps}/s p50 ${raw.p50} | usecase ${real.rps}/s p50 ${real.p50} | ${Math.round((100 * real.rps) / raw.rps)} %`,
  );
}
await ctx.close();
