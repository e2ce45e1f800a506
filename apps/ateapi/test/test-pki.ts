import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool, tempDir } from '@substrate/testing';

/** A PEM certificate with its key, and where both are on disk. */
export interface TestCertificate {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly certFile: string;
  readonly keyFile: string;
}

/** A throw-away PKI for TLS tests, made with the openssl CLI (P-256 keys, valid for a day). */
export interface TestPki {
  readonly dir: string;
  /** The CA that signs `server` and `client`. */
  readonly ca: TestCertificate;
  /** Server certificate for `127.0.0.1` and `localhost`. */
  readonly server: TestCertificate;
  /** Client certificate `CN=<clientName>` with URI SAN `spiffe://cluster.local/ns/ate-system/sa/<clientName>`. */
  readonly client: TestCertificate;
  /** A client certificate from another, untrusted CA. */
  readonly rogueClient: TestCertificate;
  remove(): void;
}

/** Makes a fresh CA, a server certificate for loopback and two client certificates (one untrusted). */
export function createTestPki(clientName = 'test-client'): TestPki {
  const openssl = requireTool('openssl');
  const dir = tempDir('pki');
  const run = (...args: string[]) => execFileSync(openssl, args, { cwd: dir.path, stdio: 'pipe' });
  const paths = (name: string) => ({
    certFile: join(dir.path, `${name}.pem`),
    keyFile: join(dir.path, `${name}.key`),
  });
  const load = (name: string): TestCertificate => {
    const { certFile, keyFile } = paths(name);
    return { cert: readFileSync(certFile), key: readFileSync(keyFile), certFile, keyFile };
  };
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const selfSigned = (name: string, subject: string) => {
    const { certFile, keyFile } = paths(name);
    run('req', '-x509', ...newKey, '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', subject);
  };
  const signed = (name: string, subject: string, ca: string, extensions: string) => {
    const { certFile, keyFile } = paths(name);
    const csr = join(dir.path, `${name}.csr`);
    const extFile = join(dir.path, `${name}.ext`);
    writeFileSync(extFile, extensions);
    run('req', ...newKey, '-keyout', keyFile, '-out', csr, '-subj', subject);
    const authority = paths(ca);
    run(
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      authority.certFile,
      '-CAkey',
      authority.keyFile,
      '-set_serial',
      `0x${randomBytes(8).toString('hex')}`,
      '-days',
      '1',
      '-out',
      certFile,
      '-extfile',
      extFile,
    );
  };

  selfSigned('ca', '/CN=substrate-test-ca');
  selfSigned('rogue-ca', '/CN=rogue-ca');
  signed(
    'server',
    '/CN=ateapi',
    'ca',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n',
  );
  const clientExtensions = `subjectAltName=URI:spiffe://cluster.local/ns/ate-system/sa/${clientName}\nextendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n`;
  signed('client', `/CN=${clientName}/O=substrate`, 'ca', clientExtensions);
  signed('rogue-client', `/CN=${clientName}/O=substrate`, 'rogue-ca', clientExtensions);
  return {
    dir: dir.path,
    ca: load('ca'),
    server: load('server'),
    client: load('client'),
    rogueClient: load('rogue-client'),
    remove: dir.remove,
  };
}
