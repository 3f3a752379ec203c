import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface KeyPair {
  privateKey: string;
  publicKey: string;
}

/** A fresh RSA-2048 key pair in PEM (PKCS#8 private, SPKI public), as both providers use. */
export function rsaPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** A self-signed certificate for a key (openssl), with its serial in upper-case hex as WeChat Pay names it. */
export function selfSignedCertificate(dir: string, name: string, pair: KeyPair): { file: string; serial: string } {
  const keyFile = path.join(dir, `${name}.key.pem`);
  const file = path.join(dir, `${name}.cert.pem`);
  writeFileSync(keyFile, pair.privateKey, { mode: 0o600 });
  const serial = randomBytes(16).toString('hex').toUpperCase().replace(/^0+/, '1');
  execFileSync('openssl', [
    'req',
    '-x509',
    '-new',
    '-key',
    keyFile,
    '-out',
    file,
    '-days',
    '30',
    '-subj',
    `/CN=${name}`,
    '-set_serial',
    `0x${serial}`,
  ]);
  return { file, serial };
}

/** A private temp directory for the key files a test's config names. */
export function keyDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'qf-provider-keys-'));
}

export function writeKey(dir: string, name: string, pem: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, pem, { mode: 0o600 });
  return file;
}
