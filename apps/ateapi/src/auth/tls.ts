import type { Socket } from 'node:net';
import { type PeerCertificate, TLSSocket } from 'node:tls';
import { experimental, ServerCredentials } from '@grpc/grpc-js';
import type { AuthConfig } from './auth-config';

/**
 * A certificate provider that always holds the same PEM buffers (grpc-js asks providers, not files). It
 * answers a new listener on the next microtask: grpc-js registers its own watcher only after adding the
 * listeners, so a synchronous answer would be lost and the server would drop every connection.
 */
class StaticCertificateProvider implements experimental.CertificateProvider {
  constructor(
    private readonly identity: experimental.IdentityCertificateUpdate | null,
    private readonly ca: experimental.CaCertificateUpdate | null,
  ) {}

  addCaCertificateListener(listener: experimental.CaCertificateUpdateListener): void {
    queueMicrotask(() => listener(this.ca));
  }

  removeCaCertificateListener(): void {
    // Static: nothing to stop.
  }

  addIdentityCertificateListener(listener: experimental.IdentityCertificateUpdateListener): void {
    queueMicrotask(() => listener(this.identity));
  }

  removeIdentityCertificateListener(): void {
    // Static: nothing to stop.
  }
}

/**
 * The credentials of ateapi's gRPC port: plaintext without TLS settings; TLS with the configured
 * certificate otherwise. With a client CA, clients are asked for a certificate but may connect without
 * one; a presented certificate counts only when it verifies against the CA (a call's
 * `getAuthContext().sslPeerCertificate` is set only then).
 */
export function grpcServerCredentials(config: AuthConfig): ServerCredentials {
  const tls = config.tls;
  if (tls === undefined) return ServerCredentials.createInsecure();
  if (tls.clientCa === undefined) {
    return ServerCredentials.createSsl(null, [{ private_key: tls.key, cert_chain: tls.cert }], false);
  }
  // createSsl can only ignore client certificates or require them; "verify if given" needs
  // requestCert without rejectUnauthorized, which the certificate-provider credentials give.
  // Despite the parameter names in grpc-js's typings, the identity provider comes first.
  const identity = new StaticCertificateProvider({ certificate: tls.cert, privateKey: tls.key }, null);
  const ca = new StaticCertificateProvider(null, { caCertificate: tls.clientCa });
  return experimental.createCertificateProviderServerCredentials(identity, ca, false);
}

/** Node `https` server options for ateapi's HTTP port (Nest's `httpsOptions`); undefined without TLS. */
export function httpsOptions(
  config: AuthConfig,
): { key: Buffer; cert: Buffer; ca?: Buffer; requestCert: boolean; rejectUnauthorized: boolean } | undefined {
  const tls = config.tls;
  if (tls === undefined) return undefined;
  if (tls.clientCa === undefined)
    return { key: tls.key, cert: tls.cert, requestCert: false, rejectUnauthorized: false };
  // Ask for a client certificate without requiring one; HttpAuthGuard rejects one that did not verify.
  return { key: tls.key, cert: tls.cert, ca: tls.clientCa, requestCert: true, rejectUnauthorized: false };
}

/** A verified TLS client certificate, as the auth guards see it. */
export interface ClientCertificate {
  /** Subject distinguished name, e.g. `CN=atenet,O=substrate`. */
  readonly subject: string;
  /** Subject alternative names as Node prints them, e.g. `URI:spiffe://cluster.local/ns/x/sa/y`. */
  readonly subjectAltName: string | undefined;
  /** SHA-256 fingerprint, colon-separated hex. */
  readonly fingerprint256: string;
}

/** The fields of a Node peer certificate the guards keep. */
export function clientCertificateOf(peer: PeerCertificate | undefined): ClientCertificate | undefined {
  if (peer === undefined || peer.raw === undefined) return undefined;
  const subject = Object.entries(peer.subject ?? {})
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join('+') : String(value)}`)
    .join(',');
  return { subject, subjectAltName: peer.subjectaltname, fingerprint256: peer.fingerprint256 };
}

/**
 * What the TLS socket of an HTTP request says about its client certificate: `none` when none was
 * presented (or the connection is plaintext), the certificate when it verified, or the reason it did not.
 */
export function httpClientCertificate(
  socket: Socket,
):
  | { state: 'none' }
  | { state: 'verified'; certificate: ClientCertificate }
  | { state: 'rejected'; reason: string } {
  if (!(socket instanceof TLSSocket)) return { state: 'none' };
  const peer = socket.getPeerCertificate() as PeerCertificate | null | undefined;
  if (peer === undefined || peer === null || Object.keys(peer).length === 0) return { state: 'none' };
  if (!socket.authorized) {
    const error: unknown = socket.authorizationError;
    return { state: 'rejected', reason: error instanceof Error ? error.message : String(error) };
  }
  const certificate = clientCertificateOf(peer);
  return certificate === undefined ? { state: 'none' } : { state: 'verified', certificate };
}
