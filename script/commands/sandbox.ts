import type { Command } from 'commander';
import { getPayment, recordSandboxOutcome, refundsOfOrder, sandboxWebhook } from '../../internal/payment/index.js';
import type { ServiceContext } from '../../internal/svc/index.js';
import { CliError, EXIT } from '../cli-error.js';
import { withContext } from '../context.js';

const id = (v: string) => {
  if (!/^[1-9]\d{0,19}$/.test(v)) throw new CliError(`'${v}' is not an id: expected a decimal id`, EXIT.USAGE);
  return v;
};

const requireEnabled = (ctx: ServiceContext) => {
  if (!ctx.config.payment.sandbox.enabled) {
    throw new CliError(
      'the sandbox is disabled in this config (payment.sandbox.enabled is false); it exists for dev and test only',
      EXIT.USAGE,
    );
  }
};

/** Plays the sandbox payment provider: sends correctly signed webhooks to the running HTTP API. */
export function sandboxCommand(program: Command): void {
  const sandbox = program
    .command('sandbox')
    .description('play the sandbox payment provider: send signed webhooks to the HTTP API (development only)')
    .option('--api <url>', 'base URL of the HTTP API', 'http://127.0.0.1:8888')
    .addHelpText(
      'after',
      '\nExamples:\n  qianfan-order sandbox pay 384870123456789012\n  qianfan-order sandbox refund 384870123456789000',
    );

  const send = async (api: string, n: Parameters<typeof sandboxWebhook>[1], secret: string) => {
    const w = sandboxWebhook(secret, n);
    let res: Response;
    try {
      res = await fetch(`${api}/v1/payments/webhooks/sandbox`, { method: 'POST', headers: w.headers, body: w.body });
    } catch (err) {
      throw new CliError(`cannot reach ${api}: ${(err as Error).message} (is restful running? npm run dev)`);
    }
    const text = await res.text();
    if (!res.ok) throw new CliError(`the API answered ${res.status}: ${text}`);
    process.stdout.write(`${n.type} sent for order ${n.orderId}: ${res.status} ${text}\n`);
  };

  for (const outcome of ['pay', 'fail'] as const) {
    sandbox
      .command(`${outcome} <paymentId>`)
      .description(outcome === 'pay' ? 'the payer completes the payment' : 'the payment is declined')
      .action(async (paymentId: string) => {
        id(paymentId);
        await withContext(async (ctx) => {
          requireEnabled(ctx);
          const p = await getPayment(ctx.db, BigInt(paymentId));
          if (p?.provider !== 'sandbox')
            throw new CliError(`no sandbox payment ${paymentId}; start one with POST /v1/orders/{id}/payments`);
          await recordSandboxOutcome(ctx, p.id, outcome === 'pay' ? 'succeed' : 'fail');
          await send(
            sandbox.opts<{ api: string }>().api,
            {
              type: outcome === 'pay' ? 'payment.succeeded' : 'payment.failed',
              paymentId,
              orderId: p.orderId.toString(),
              providerTxnId: p.providerTxnId ?? '',
              amount: p.amount,
              currency: p.currency,
              occurredAt: new Date().toISOString(),
              ...(outcome === 'fail' ? { failureReason: 'declined in the sandbox' } : {}),
            },
            ctx.config.payment.webhookSecret,
          );
        });
      });
  }

  sandbox
    .command('refund <orderId>')
    .description("the provider confirms the order's pending refunds")
    .action(async (orderId: string) => {
      id(orderId);
      await withContext(async (ctx) => {
        requireEnabled(ctx);
        const pending = (await refundsOfOrder(ctx.db, BigInt(orderId))).filter((r) => r.status === 'PENDING');
        if (pending.length === 0) throw new CliError(`order ${orderId} has no pending refund`);
        for (const r of pending) {
          await send(
            sandbox.opts<{ api: string }>().api,
            {
              type: 'refund.succeeded',
              refundId: r.id.toString(),
              orderId,
              amount: r.amount,
              occurredAt: new Date().toISOString(),
            },
            ctx.config.payment.webhookSecret,
          );
        }
      });
    });
}
