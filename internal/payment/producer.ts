import { AppError } from '../errorx/index.js';
import type { ServiceContext } from '../svc/index.js';

export function requireProducer(ctx: ServiceContext) {
  if (!ctx.mq) throw new AppError('DEPENDENCY_UNAVAILABLE', 'this process has no RocketMQ producer');
  return ctx.mq;
}
