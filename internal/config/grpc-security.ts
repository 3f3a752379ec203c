import { z } from 'zod';
import { list } from './coerce.js';

/** A caller's name: lower-case letters, digits and '-', as it appears in logs and idempotency scopes. */
const CALLER = /^[a-z][a-z0-9-]{0,31}$/;

export interface ServiceToken {
  caller: string;
  token: string;
}

/**
 * `grpc.serviceTokens`: `<caller>:<token>` entries (env: comma-separated). A call's `x-service-token`
 * metadata names its caller; a caller may have several tokens at once (rotation).
 */
export const serviceTokensSchema = list.pipe(
  z.array(
    z.string().transform((s, ctx): ServiceToken => {
      const at = s.indexOf(':');
      const caller = s.slice(0, Math.max(at, 0));
      if (!CALLER.test(caller) || at === s.length - 1) {
        ctx.addIssue({
          code: 'custom',
          message: 'expected <caller>:<token>, e.g. payment:<a token from the secret manager>',
        });
        return { caller: '', token: '' }; // refused above; later checks skip it
      }
      return { caller, token: s.slice(at + 1) };
    }),
  ),
);

/** `grpc.callers`: the OrderService methods each caller may call ('*' for all: dev and test only). */
export const callersSchema = z
  .record(z.string().regex(CALLER, 'expected a caller name (a-z, 0-9, -)'), z.array(z.string().min(1)))
  .default({});

/**
 * `grpc.tls`: the server's certificate and key (PEM files); with `caFile` and `requireClientCert`, only
 * clients with a certificate that CA signed may connect (mTLS).
 */
export const grpcTlsSchema = z
  .strictObject({
    certFile: z.string().default(''),
    keyFile: z.string().default(''),
    caFile: z.string().default(''),
    requireClientCert: z
      .preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean())
      .default(false),
  })
  .default({ certFile: '', keyFile: '', caFile: '', requireClientCert: false });

type Grpc = {
  serviceTokens: ServiceToken[];
  callers: Record<string, string[]>;
  tls: z.infer<typeof grpcTlsSchema>;
  allowPlaintext: boolean;
};

/** What is wrong with the gRPC security settings, as [path, message]; `strict` outside dev and test. */
export function grpcSecurityProblems(g: Grpc, env: string, strict: boolean): Array<[string[], string]> {
  const out: Array<[string[], string]> = [];
  g.serviceTokens.forEach((t, i) => {
    if (t.caller && !g.callers[t.caller])
      out.push([
        ['grpc', 'serviceTokens', String(i)],
        `caller '${t.caller}' has no entry in grpc.callers: list the methods it may call`,
      ]);
  });
  const tokens = new Map<string, string>();
  g.serviceTokens.forEach((t, i) => {
    if (!t.caller) return;
    const other = tokens.get(t.token);
    if (other !== undefined && other !== t.caller)
      out.push([
        ['grpc', 'serviceTokens', String(i)],
        `the same token is given to callers '${other}' and '${t.caller}'`,
      ]);
    tokens.set(t.token, t.caller);
  });
  const { certFile, keyFile, caFile, requireClientCert } = g.tls;
  if (Boolean(certFile) !== Boolean(keyFile))
    out.push([['grpc', 'tls', certFile ? 'keyFile' : 'certFile'], 'TLS needs both certFile and keyFile']);
  if (requireClientCert && !caFile)
    out.push([['grpc', 'tls', 'caFile'], 'requireClientCert needs the CA that signs client certificates']);
  if (requireClientCert && !certFile)
    out.push([['grpc', 'tls', 'certFile'], 'requireClientCert needs the server certificate and key']);
  if (!strict) return out;
  for (const [caller, methods] of Object.entries(g.callers)) {
    if (methods.includes('*'))
      out.push([
        ['grpc', 'callers', caller],
        `'*' grants every method, ApplyPaymentResult included; ${env} lists each caller's methods`,
      ]);
  }
  if (!certFile && !g.allowPlaintext)
    out.push([
      ['grpc', 'tls', 'certFile'],
      `${env} serves gRPC over TLS: set grpc.tls.certFile and keyFile (QIANFAN_GRPC__TLS__CERT_FILE, …), or grpc.allowPlaintext=true where a mesh terminates TLS`,
    ]);
  return out;
}
