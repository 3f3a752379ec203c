import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface Issued {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
}

export interface TestPki {
  dir: string;
  caFile: string;
  ca: Buffer;
  /** Issues a P-256 certificate signed by this CA, with the given subject alternative names. */
  issue(name: string, san?: string): Issued;
}

/** A throwaway certificate authority (openssl, in a private temp directory) for TLS and mTLS tests. */
export function testPki(label = 'qf-test-ca'): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), 'qf-pki-'));
  const at = (f: string) => path.join(dir, f);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  run(['req', '-x509', ...ec, '-keyout', at('ca.key'), '-out', at('ca.crt'), '-days', '2', '-subj', `/CN=${label}`]);
  return {
    dir,
    caFile: at('ca.crt'),
    ca: readFileSync(at('ca.crt')),
    issue(name, san) {
      const ext = san ? ['-addext', `subjectAltName=${san}`] : [];
      run([
        'req',
        '-new',
        ...ec,
        '-keyout',
        at(`${name}.key`),
        '-subj',
        `/CN=${name}`,
        ...ext,
        '-out',
        at(`${name}.csr`),
      ]);
      run([
        'x509',
        '-req',
        '-in',
        at(`${name}.csr`),
        '-CA',
        at('ca.crt'),
        '-CAkey',
        at('ca.key'),
        '-CAcreateserial',
        '-days',
        '2',
        '-copy_extensions',
        'copy',
        '-out',
        at(`${name}.crt`),
      ]);
      return {
        certFile: at(`${name}.crt`),
        keyFile: at(`${name}.key`),
        cert: readFileSync(at(`${name}.crt`)),
        key: readFileSync(at(`${name}.key`)),
      };
    },
  };
}
