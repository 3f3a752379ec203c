import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { Config } from '../config/index.js';
import { AppError } from '../errorx/index.js';
import { parseId } from '../ids/index.js';

export interface Principal {
  userId: string;
  roles: string[];
}

// Token checks need the JWT settings only; the admin permissions are checked elsewhere (internal/auth/permissions.ts).
type AuthConfig = Omit<Config['auth'], 'rolePermissions'>;

const keys = new WeakMap<AuthConfig, KeyObject>();

/** The verification key of a config, built once (not per request). */
function verifyKey(cfg: AuthConfig): KeyObject {
  let key = keys.get(cfg);
  if (!key) {
    if (cfg.jwtAlgorithm === 'RS256') {
      if (!cfg.jwtPublicKey) throw new Error('auth.jwtPublicKey is required when auth.jwtAlgorithm is RS256');
      key = createPublicKey(cfg.jwtPublicKey);
    } else {
      if (cfg.jwtSecret.length < 32) throw new Error('auth.jwtSecret must be at least 32 characters for HS256');
      key = createSecretKey(Buffer.from(cfg.jwtSecret));
    }
    keys.set(cfg, key);
  }
  return key;
}

/**
 * Tokens verified recently, so a client polling with the same token pays for the signature once.
 * Bounded (oldest dropped first); an entry is used only before the token's own expiry.
 */
const verified = new Map<string, { principal: Principal; expMs: number; cfg: AuthConfig }>();
const MAX_CACHED = 10_000;

/**
 * Checks a bearer token: signature, algorithm, issuer, expiry (`exp` required), audience when
 * auth.audience is set, age when auth.maxTokenAgeSeconds is set; claims sub (user id, required) and roles.
 */
export async function verifyToken(cfg: AuthConfig, token: string): Promise<Principal> {
  const hit = verified.get(token);
  if (hit && hit.cfg === cfg && hit.expMs > Date.now()) return hit.principal;
  try {
    const { payload } = await jwtVerify(token, verifyKey(cfg), {
      algorithms: [cfg.jwtAlgorithm],
      issuer: cfg.jwtIssuer,
      audience: cfg.audience || undefined,
      maxTokenAge: cfg.maxTokenAgeSeconds > 0 ? cfg.maxTokenAgeSeconds : undefined,
      requiredClaims: ['exp', 'sub'],
      clockTolerance: 30,
    });
    if (typeof payload.sub !== 'string' || !/^[1-9]/.test(payload.sub) || parseId(payload.sub) === undefined) {
      throw new AppError('UNAUTHENTICATED', 'token subject must be a numeric 64-bit user id');
    }
    const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [];
    const principal = { userId: payload.sub, roles };
    let expMs = (payload.exp as number) * 1000;
    if (cfg.maxTokenAgeSeconds > 0 && typeof payload.iat === 'number') {
      expMs = Math.min(expMs, (payload.iat + cfg.maxTokenAgeSeconds) * 1000);
    }
    if (verified.size >= MAX_CACHED) verified.delete(verified.keys().next().value as string);
    verified.set(token, { principal, expMs, cfg });
    return principal;
  } catch (err) {
    if (err instanceof AppError) throw err;
    const reason =
      err instanceof errors.JWTExpired
        ? 'token expired'
        : err instanceof errors.JWTClaimValidationFailed
          ? `token is invalid: ${err.message}`
          : 'token is invalid';
    throw new AppError('UNAUTHENTICATED', reason, undefined, { cause: err });
  }
}

/** Mints an HS256 token (development, tests and the operator CLI). Production tokens come from the identity service. */
export async function signDevToken(cfg: AuthConfig, p: Principal, ttlSeconds: number): Promise<string> {
  if (cfg.jwtAlgorithm !== 'HS256') throw new Error('minting tokens needs auth.jwtAlgorithm HS256 and auth.jwtSecret');
  const jwt = new SignJWT({ roles: p.roles });
  if (cfg.audience) jwt.setAudience(cfg.audience);
  return jwt
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(p.userId)
    .setIssuer(cfg.jwtIssuer)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(verifyKey(cfg));
}
