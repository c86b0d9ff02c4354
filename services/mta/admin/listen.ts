/**
 * Serves the admin app on each MTA_ADMIN_LISTEN address; a port already taken is an
 * error naming it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';
import type { HostPort } from '../../../shared/config.ts';

export interface AdminServerHandle {
  addresses: AddressInfo[];
  close(): Promise<void>;
}

export async function listenAdmin(app: RequestListener, listen: readonly HostPort[]): Promise<AdminServerHandle> {
  const servers: Server[] = [];
  const close = () =>
    Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    ).then(() => undefined);
  try {
    for (const { host, port } of listen) {
      const server = createServer(app);
      await new Promise<void>((resolve, reject) => {
        server.once('error', (error: NodeJS.ErrnoException) =>
          reject(error.code === 'EADDRINUSE' ? new Error(`admin endpoint: ${host}:${port} is already in use`) : error),
        );
        server.listen(port, host, () => resolve());
      });
      servers.push(server);
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { addresses: servers.map((server) => server.address() as AddressInfo), close };
}
