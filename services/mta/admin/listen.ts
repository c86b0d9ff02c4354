/**
 * Serves the admin app on each MTA_ADMIN_LISTEN address; a port already taken is an
 * error naming it.
 */
import type { RequestListener } from 'node:http';
import type { HostPort } from '../../../shared/config.ts';
import { listenHttp, type HttpListeners } from '../../../shared/http-listen.ts';

export type AdminServerHandle = HttpListeners;

export function listenAdmin(app: RequestListener, listen: readonly HostPort[]): Promise<AdminServerHandle> {
  return listenHttp('MTA admin endpoint', app, listen);
}
