/**
 * TLS options for the MUA's client connections: trust only the lab CA and check the
 * certificate against the name discovery found (the SRV target), even when the
 * connection goes to an address.
 */
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { Endpoint } from './discovery.ts';

export function clientTls(ca: string, endpoint: Endpoint): ConnectionOptions {
  const options: ConnectionOptions = { ca, rejectUnauthorized: true, minVersion: 'TLSv1.2' };
  // SNI takes host names only (RFC 6066 §3); an address is still checked against the certificate.
  if (isIP(endpoint.servername) === 0) options.servername = endpoint.servername;
  return options;
}
