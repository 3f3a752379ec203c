import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { signDevToken, verifyToken } from '../internal/auth/index.js';
import { AppError } from '../internal/errorx/index.js';

const hs = {
  jwtAlgorithm: 'HS256' as const,
  jwtSecret: 'a-test-secret-that-is-long-enough-0123',
  jwtPublicKey: '',
  jwtIssuer: 'qianfan',
  audience: '',
  maxTokenAgeSeconds: 0,
};
const unauthenticated = (pattern: RegExp) => (e: unknown) =>
  e instanceof AppError && e.code === 'UNAUTHENTICATED' && pattern.test(e.message);

describe('JWT verification (HS256 and RS256 by config)', () => {
  it('HS256: accepts our tokens, refuses another issuer, another algorithm and a non-numeric subject', async () => {
    const t = await signDevToken(hs, { userId: '42', roles: ['user'] }, 60);
    assert.deepEqual(await verifyToken(hs, t), { userId: '42', roles: ['user'] });
    const key = Buffer.from(hs.jwtSecret);
    const otherIssuer = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('42')
      .setIssuer('evil')
      .setExpirationTime('1h')
      .sign(key);
    await assert.rejects(
      verifyToken(hs, otherIssuer),
      (e: unknown) => e instanceof AppError && e.code === 'UNAUTHENTICATED',
    );
    const hs512 = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject('42')
      .setIssuer('qianfan')
      .setExpirationTime('1h')
      .sign(Buffer.alloc(64, 1));
    await assert.rejects(verifyToken(hs, hs512), /token is invalid/);
    const badSub = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('bob')
      .setIssuer('qianfan')
      .setExpirationTime('1h')
      .sign(key);
    await assert.rejects(verifyToken(hs, badSub), /numeric 64-bit user id/);
    const tooBig = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('18446744073709551616')
      .setIssuer('qianfan')
      .setExpirationTime('1h')
      .sign(key);
    await assert.rejects(verifyToken(hs, tooBig), (e: unknown) => (e as { code?: string }).code === 'UNAUTHENTICATED');
  });

  it('RS256: verifies with the configured public key and refuses HS256 tokens signed with that key text', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const rs = { ...hs, jwtAlgorithm: 'RS256' as const, jwtPublicKey: pem };
    const t = await new SignJWT({ roles: ['admin'] })
      .setProtectedHeader({ alg: 'RS256' })
      .setSubject('7')
      .setIssuer('qianfan')
      .setExpirationTime('1h')
      .sign(privateKey);
    assert.deepEqual(await verifyToken(rs, t), { userId: '7', roles: ['admin'] });
    const confused = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('7')
      .setIssuer('qianfan')
      .setExpirationTime('1h')
      .sign(Buffer.from(pem));
    await assert.rejects(verifyToken(rs, confused), /token is invalid/);
  });

  it('requires exp and sub: a token without an expiry is not accepted forever', async () => {
    const key = Buffer.from(hs.jwtSecret);
    const noExp = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('42')
      .setIssuer('qianfan')
      .sign(key);
    await assert.rejects(verifyToken(hs, noExp), unauthenticated(/"exp"/));
    const noSub = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('qianfan')
      .setExpirationTime('1h')
      .sign(key);
    await assert.rejects(verifyToken(hs, noSub), unauthenticated(/"sub"/));
  });

  it('checks the audience when auth.audience is set, and the token age when auth.maxTokenAgeSeconds is', async () => {
    const key = Buffer.from(hs.jwtSecret);
    const withAud = { ...hs, audience: 'qianfan-order' };
    const token = (aud: string | undefined, iatSecondsAgo = 0) => {
      const t = new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('42')
        .setIssuer('qianfan')
        .setIssuedAt(Math.floor(Date.now() / 1000) - iatSecondsAgo)
        .setExpirationTime('2h');
      if (aud) t.setAudience(aud);
      return t.sign(key);
    };
    assert.equal((await verifyToken(withAud, await token('qianfan-order'))).userId, '42');
    await assert.rejects(verifyToken(withAud, await token('qianfan-points')), unauthenticated(/"aud"/));
    await assert.rejects(verifyToken(withAud, await token(undefined)), unauthenticated(/"aud"/));
    // Minted by our own tool with the audience configured, accepted.
    const minted = await signDevToken(withAud, { userId: '42', roles: [] }, 60);
    assert.equal((await verifyToken(withAud, minted)).userId, '42');

    const young = { ...hs, maxTokenAgeSeconds: 600 };
    assert.equal((await verifyToken(young, await token(undefined, 60))).userId, '42');
    await assert.rejects(verifyToken(young, await token(undefined, 3600)), unauthenticated(/expired/));
  });
});
