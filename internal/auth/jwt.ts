import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { Config } from '../config/index.js';
import { AppError } from '../errorx/index.js';
import { parseId } from '../ids/index.js';

export interface Principal {
  userId: string;
  roles: string[];
}

type AuthConfig = Config['auth'];

function verifyKey(cfg: AuthConfig): KeyObject {
  if (cfg.jwtAlgorithm === 'RS256') {
    if (!cfg.jwtPublicKey) throw new Error('auth.jwtPublicKey is required when auth.jwtAlgorithm is RS256');
    return createPublicKey(cfg.jwtPublicKey);
  }
  if (cfg.jwtSecret.length < 32) throw new Error('auth.jwtSecret must be at least 32 characters for HS256');
  return createSecretKey(Buffer.from(cfg.jwtSecret));
}

/** Checks a bearer token: signature, algorithm, issuer, expiry; claims sub (user id) and roles. */
export async function verifyToken(cfg: AuthConfig, token: string): Promise<Principal> {
  try {
    const { payload } = await jwtVerify(token, verifyKey(cfg), {
      algorithms: [cfg.jwtAlgorithm],
      issuer: cfg.jwtIssuer,
      clockTolerance: 30,
    });
    if (typeof payload.sub !== 'string' || !/^[1-9]/.test(payload.sub) || parseId(payload.sub) === undefined) {
      throw new AppError('UNAUTHENTICATED', 'token subject must be a numeric 64-bit user id');
    }
    const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [];
    return { userId: payload.sub, roles };
  } catch (err) {
    if (err instanceof AppError) throw err;
    const reason = err instanceof errors.JWTExpired ? 'token expired' : 'token is invalid';
    throw new AppError('UNAUTHENTICATED', reason, undefined, { cause: err });
  }
}

/** Mints an HS256 token (development, tests and the operator CLI). Production tokens come from the identity service. */
export async function signDevToken(cfg: AuthConfig, p: Principal, ttlSeconds: number): Promise<string> {
  if (cfg.jwtAlgorithm !== 'HS256') throw new Error('minting tokens needs auth.jwtAlgorithm HS256 and auth.jwtSecret');
  return new SignJWT({ roles: p.roles })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(p.userId)
    .setIssuer(cfg.jwtIssuer)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(verifyKey(cfg));
}
