/**
 * The no-Docker lab DNS: serves the lab zones over UDP and TCP (RFC 1035 §4.2, TCP
 * framing per RFC 7766 §8: a 2-byte length prefix, several queries per connection).
 * The answers come from `respond`; this module only moves bytes. It watches the zones
 * folder, as CoreDNS's `reload` does in compose: an edited zone file is served a moment
 * after it is saved; a file that does not parse is logged and the last good zones stay.
 */
import dgram from 'node:dgram';
import { watch, type FSWatcher } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { isIPv6 } from 'node:net';
import type { HostPort } from '../../shared/config.ts';
import { connectionId, type Logger } from '../../shared/log.ts';
import { respond, type DnsReply, type Transport } from './responder.ts';
import { loadZones, type AddressMode, type ZoneStore } from './zone-store.ts';

/** RFC 7766 §6.2.3: close idle TCP connections; a few seconds is the recommended order. */
export const TCP_IDLE_TIMEOUT_MS = 10_000;
/** RFC 1035 §4.2.2: the length prefix caps a TCP message at 65535 bytes. */
export const MAX_TCP_MESSAGE = 65_535;
/** A zone edit is read this long after the last change event (editors write in steps). */
export const ZONE_RELOAD_DELAY_MS = 200;
/** Attempts at finding a port free for both UDP and TCP when asked for port 0. */
const SAME_PORT_ATTEMPTS = 20;

export interface DnsServerOptions {
  listen: HostPort[];
  zonesDir: string;
  addressMode: AddressMode;
  logger: Logger;
}

export interface DnsServer {
  close(): Promise<void>;
  udp: AddressInfo[];
  tcp: AddressInfo[];
  /** The zones served now (replaced when a zone file changes). */
  readonly store: ZoneStore;
  /** Resolves after the next reload of the zones (tests). */
  reloaded(): Promise<void>;
}

export class ListenError extends Error {
  override readonly name = 'ListenError';
}

export async function startDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  let store = await loadZones(options.zonesDir, options.addressMode);
  const logger = options.logger;
  logger.info({ zones: store.zones.map((zone) => zone.origin), mode: options.addressMode }, 'zones loaded');
  const sockets: dgram.Socket[] = [];
  const servers: net.Server[] = [];
  const connections = new Set<net.Socket>();

  const answer = (message: Buffer, transport: Transport, peer: string): DnsReply => {
    const reply = respond(store, message, transport);
    logger.debug({ transport, peer, question: reply.question, rcode: reply.rcode, truncated: reply.truncated }, 'query');
    return reply;
  };

  let watcher: FSWatcher | undefined;
  let reloadTimer: NodeJS.Timeout | undefined;
  let reloadWaiters: (() => void)[] = [];
  const reload = async (): Promise<void> => {
    try {
      store = await loadZones(options.zonesDir, options.addressMode);
      logger.info({ event: 'dns.reload', zones: store.zones.map((zone) => zone.origin) }, 'zones reloaded');
    } catch (error) {
      logger.error({ event: 'dns.reload', err: error }, 'zone reload failed; serving the previous zones');
    }
    for (const resolve of reloadWaiters.splice(0)) resolve();
  };
  watcher = watch(options.zonesDir, { persistent: false }, (_event, file) => {
    if (file !== null && !String(file).endsWith('.zone')) return;
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => void reload(), ZONE_RELOAD_DELAY_MS);
  });
  watcher.on('error', (error) => logger.warn({ err: error }, 'cannot watch the zones folder; edits need a restart'));

  const closeAll = async (): Promise<void> => {
    watcher?.close();
    watcher = undefined;
    clearTimeout(reloadTimer);
    reloadWaiters = [];
    for (const socket of connections) socket.destroy();
    await Promise.all([
      ...sockets.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))),
      ...servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    ]);
  };

  try {
    for (const address of options.listen) {
      const { socket, server } = await bindPair(address, (message, rinfo, udpSocket) => {
        const reply = answer(message, 'udp', `${rinfo.address}:${rinfo.port}`);
        if (reply.bytes !== undefined) udpSocket.send(reply.bytes, rinfo.port, rinfo.address);
      }, (connection) => {
        connections.add(connection);
        connection.on('close', () => connections.delete(connection));
        serveTcp(connection, answer, logger);
      });
      sockets.push(socket);
      servers.push(server);
    }
  } catch (error) {
    await closeAll();
    throw error;
  }
  const udp = sockets.map((socket) => socket.address());
  const tcp = servers.map((server) => server.address() as AddressInfo);
  logger.info({ udp, tcp }, 'dns listening');
  return {
    close: closeAll,
    udp,
    tcp,
    get store() {
      return store;
    },
    reloaded: () => new Promise<void>((resolve) => reloadWaiters.push(resolve)),
  };
}

type UdpHandler = (message: Buffer, rinfo: dgram.RemoteInfo, socket: dgram.Socket) => void;

/** Binds UDP and TCP on the same port; port 0 picks one port free for both. */
async function bindPair(address: HostPort, onUdp: UdpHandler, onTcp: (socket: net.Socket) => void): Promise<{ socket: dgram.Socket; server: net.Server }> {
  const attempts = address.port === 0 ? SAME_PORT_ATTEMPTS : 1;
  for (let attempt = 1; ; attempt++) {
    const socket = await bindUdp(address, onUdp);
    const port = socket.address().port;
    try {
      const server = await listenTcp({ host: address.host, port }, onTcp);
      return { socket, server };
    } catch (error) {
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      if (attempt >= attempts || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    }
  }
}

function describeListenError(error: NodeJS.ErrnoException, address: HostPort, transport: Transport): ListenError {
  const where = `${address.host}:${address.port}/${transport}`;
  const reason =
    error.code === 'EADDRINUSE' ? 'the port is already taken' : error.code === 'EACCES' ? 'permission denied' : error.message;
  return new ListenError(`DNS cannot listen on ${where}: ${reason}`, { cause: error });
}

function bindUdp(address: HostPort, onMessage: UdpHandler): Promise<dgram.Socket> {
  const socket = dgram.createSocket(isIPv6(address.host) ? 'udp6' : 'udp4');
  return new Promise((resolve, reject) => {
    socket.once('error', (error) => reject(describeListenError(error, address, 'udp')));
    socket.bind(address.port, address.host, () => {
      socket.removeAllListeners('error');
      socket.on('error', () => undefined);
      socket.on('message', (message, rinfo) => onMessage(message, rinfo, socket));
      resolve(socket);
    });
  });
}

function listenTcp(address: HostPort, onConnection: (socket: net.Socket) => void): Promise<net.Server> {
  const server = net.createServer(onConnection);
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const wrapped = describeListenError(error, address, 'tcp');
      Object.assign(wrapped, { code: error.code });
      reject(wrapped);
    });
    server.listen(address.port, address.host, () => {
      server.removeAllListeners('error');
      resolve(server);
    });
  });
}

/** One TCP connection: length-prefixed messages in, one reply per query, in order. */
function serveTcp(socket: net.Socket, answer: (message: Buffer, transport: Transport, peer: string) => DnsReply, logger: Logger): void {
  const peer = `${socket.remoteAddress}:${socket.remotePort}`;
  const log = logger.child({ conn: connectionId(), peer });
  let buffered = Buffer.alloc(0);
  socket.setTimeout(TCP_IDLE_TIMEOUT_MS, () => socket.destroy());
  socket.on('error', (error) => log.debug({ err: error }, 'tcp connection error'));
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 2) {
      const length = buffered.readUInt16BE(0);
      if (buffered.length < 2 + length) break;
      const message = buffered.subarray(2, 2 + length);
      buffered = buffered.subarray(2 + length);
      const reply = answer(message, 'tcp', peer);
      if (reply.bytes === undefined) continue;
      if (reply.bytes.length > MAX_TCP_MESSAGE) {
        log.warn({ bytes: reply.bytes.length }, 'reply too large for TCP');
        continue;
      }
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(reply.bytes.length, 0);
      socket.write(Buffer.concat([prefix, reply.bytes]));
    }
  });
}
