import { Socket } from 'node:net';
import { ServerCredentials } from '@grpc/grpc-js';
import { clientCertificateOf, grpcServerCredentials, httpClientCertificate, httpsOptions } from './tls';

describe('TLS settings for the two ports', () => {
  const cert = Buffer.from('cert');
  const key = Buffer.from('key');
  const clientCa = Buffer.from('ca');

  it('serves plaintext without a certificate', () => {
    expect(httpsOptions({ mode: 'none' })).toBeUndefined();
    expect(grpcServerCredentials({ mode: 'none' })._equals(ServerCredentials.createInsecure())).toBe(true);
  });

  it('does not ask for client certificates without a client CA', () => {
    expect(httpsOptions({ mode: 'none', tls: { cert, key } })).toEqual({
      cert,
      key,
      requestCert: false,
      rejectUnauthorized: false,
    });
  });

  it('asks for a client certificate but lets clients without one in when a client CA is set', () => {
    expect(httpsOptions({ mode: 'jwt', tls: { cert, key, clientCa } })).toEqual({
      cert,
      key,
      ca: clientCa,
      requestCert: true,
      rejectUnauthorized: false,
    });
  });

  it('sees no client certificate on a plaintext socket', () => {
    expect(httpClientCertificate(new Socket())).toEqual({ state: 'none' });
  });

  it('keeps the subject, SANs and fingerprint of a peer certificate', () => {
    expect(clientCertificateOf(undefined)).toBeUndefined();
    expect(
      clientCertificateOf({
        raw: Buffer.from('der'),
        subject: { CN: 'atenet', O: 'substrate' },
        subjectaltname: 'URI:spiffe://cluster.local/ns/ate-system/sa/atenet',
        fingerprint256: 'AB:CD',
      } as never),
    ).toEqual({
      subject: 'CN=atenet,O=substrate',
      subjectAltName: 'URI:spiffe://cluster.local/ns/ate-system/sa/atenet',
      fingerprint256: 'AB:CD',
    });
  });
});
