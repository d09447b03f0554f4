import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  readonly dir: string;
  /** CA certificate (PEM): the truststore of both sides. */
  readonly ca: string;
  /** Broker key + certificate chain in one PEM file (ssl.keystore.type=PEM). */
  readonly brokerPem: string;
  readonly brokerKey: string;
  readonly brokerCert: string;
  /** Client certificates signed by the CA, by common name. */
  client(cn: string, subject?: string): { key: string; cert: string; pem: string };
  /** A certificate no one trusts. */
  readonly rogue: { key: string; cert: string };
}

const openssl = (dir: string, args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** A throw-away CA, a broker certificate for 127.0.0.1/localhost and client certificates, made with openssl. */
export function makePki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'fjord-pki-'));
  const p = (f: string) => join(dir, f);
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/O=Fjord Test/CN=Fjord Test CA',
  ]);
  const sign = (name: string, subject: string, ext?: string) => {
    openssl(dir, [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      subject,
    ]);
    const args = [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
    ];
    if (ext) {
      writeFileSync(p(`${name}.ext`), ext);
      args.push('-extfile', `${name}.ext`);
    }
    openssl(dir, args);
    return { key: p(`${name}.key`), cert: p(`${name}.pem`) };
  };
  const broker = sign('broker', '/O=Fjord Test/CN=localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  execFileSync('sh', ['-c', `cat ${broker.key} ${broker.cert} > ${p('broker-keystore.pem')}`]);
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'rogue.key',
    '-out',
    'rogue.pem',
    '-days',
    '2',
    '-subj',
    '/CN=alice',
  ]);
  return {
    dir,
    ca: p('ca.pem'),
    brokerPem: p('broker-keystore.pem'),
    brokerKey: broker.key,
    brokerCert: broker.cert,
    client(cn, subject = `/C=NO/O=Fjord Test/OU=clients/CN=${cn}`) {
      const c = sign(`client-${cn}`, subject);
      const pem = p(`client-${cn}-keystore.pem`);
      execFileSync('sh', ['-c', `cat ${c.key} ${c.cert} > ${pem}`]);
      return { ...c, pem };
    },
    rogue: { key: p('rogue.key'), cert: p('rogue.pem') },
  };
}
