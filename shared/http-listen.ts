/**
 * Serves one HTTP request handler on several `host:port` addresses (the caller, the
 * MTA admin endpoint, the web mail). A taken or forbidden address is an error naming it;
 * `close()` stops listening and drops open keep-alive connections.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HostPort } from './config.ts';

export interface HttpListeners {
  addresses: AddressInfo[];
  close(): Promise<void>;
}

export function listenReason(error: NodeJS.ErrnoException): string {
  if (error.code === 'EADDRINUSE') return 'the port is already taken';
  if (error.code === 'EACCES') return 'permission denied';
  return error.message;
}

function closeServers(servers: readonly http.Server[]): Promise<void> {
  return Promise.all(
    servers.map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    ),
  ).then(() => undefined);
}

/** `what` names the listener in errors: `${what} cannot listen on host:port: reason`. */
export async function listenHttp(
  what: string,
  handler: http.RequestListener,
  addresses: readonly HostPort[],
  options: http.ServerOptions = {},
): Promise<HttpListeners> {
  const servers: http.Server[] = [];
  try {
    for (const { host, port } of addresses) {
      const server = http.createServer(options, handler);
      await new Promise<void>((resolve, reject) => {
        server.once('error', (error: NodeJS.ErrnoException) =>
          reject(new Error(`${what} cannot listen on ${host}:${port}: ${listenReason(error)}`, { cause: error })),
        );
        server.listen(port, host, () => {
          server.removeAllListeners('error');
          resolve();
        });
      });
      servers.push(server);
    }
  } catch (error) {
    await closeServers(servers);
    throw error;
  }
  return { addresses: servers.map((server) => server.address() as AddressInfo), close: () => closeServers(servers) };
}
