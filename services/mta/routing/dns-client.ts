/**
 * The MTA's DNS client: asks one server (the lab DNS, MTA_DNS_SERVER) with `dns-packet`
 * over UDP, and again over TCP when the answer comes back truncated (RFC 1035 §4.2.1,
 * RFC 7766 §5). Unlike node's resolver it reports every record's TTL (MX included) and the
 * negative-caching TTL of NXDOMAIN/NODATA answers (RFC 2308 §5: the smaller of the SOA's
 * own TTL and its MINIMUM field), so the cache (dns-cache.ts) keeps answers exactly as long
 * as the zone says.
 *
 * Failures are errors with node's dns codes, as the rest of the routing code expects:
 * ENOTFOUND (NXDOMAIN), ENODATA (no record of that type), ESERVFAIL, EREFUSED, ETIMEOUT,
 * EBADRESP (an answer that cannot be read), ECONNREFUSED (TCP fallback refused).
 */
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import net, { isIPv6 } from 'node:net';
import dnsPacket, { type Answer, type DecodedPacket, type OptAnswer, type RecordType } from 'dns-packet';
import type { HostPort } from '../../../shared/config.ts';
import type { AddressAnswer, MxAnswer, MxResolver } from './resolver.ts';

/** Tries per query over UDP before ETIMEOUT (each waits timeoutMs). */
export const UDP_TRIES = 2;

/** A DNS failure as the routing code reads it; `negativeTtl` only on NXDOMAIN/NODATA with an SOA. */
export interface DnsError extends NodeJS.ErrnoException {
  code: string;
  /** Seconds an NXDOMAIN or NODATA may be cached (RFC 2308 §5), when the server sent its SOA. */
  negativeTtl?: number;
}

const RCODES: Record<number, string> = { 1: 'EFORMERR', 2: 'ESERVFAIL', 3: 'ENOTFOUND', 4: 'ENOTIMP', 5: 'EREFUSED' };

function dnsError(code: string, type: RecordType, name: string, negativeTtl?: number): DnsError {
  const error = new Error(`query ${type} ${name}: ${code}`) as DnsError;
  error.code = code;
  if (negativeTtl !== undefined) error.negativeTtl = negativeTtl;
  return error;
}

function parseServer(server: HostPort | string): HostPort {
  if (typeof server !== 'string') return server;
  const bracketed = /^\[([^\]]+)\]:(\d+)$/u.exec(server);
  if (bracketed) return { host: bracketed[1] as string, port: Number(bracketed[2]) };
  const at = server.lastIndexOf(':');
  if (at > 0 && !server.slice(0, at).includes(':')) return { host: server.slice(0, at), port: Number(server.slice(at + 1)) };
  return { host: server, port: 53 };
}

/**
 * One exchange over UDP on a connected socket: only the server's datagrams arrive, and an
 * ICMP "port unreachable" (nothing listening there) fails at once with ECONNREFUSED
 * instead of waiting out the timeout. Resolves with the reply to `id`, undefined on timeout.
 */
function udpExchange(server: HostPort, query: Buffer, id: number, timeoutMs: number): Promise<DecodedPacket | undefined> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(isIPv6(server.host) ? 'udp6' : 'udp4');
    let done = false;
    const finish = (result: DecodedPacket | undefined, error?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      if (error) reject(error);
      else resolve(result);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    socket.on('error', (error) => finish(undefined, error));
    socket.on('message', (message) => {
      let packet: DecodedPacket;
      try {
        packet = dnsPacket.decode(message);
      } catch {
        return; // not a DNS message: keep waiting for the real one
      }
      if (packet.id === id && packet.type === 'response') finish(packet);
    });
    socket.connect(server.port, server.host, () => {
      socket.send(query, (error) => {
        if (error) finish(undefined, error);
      });
    });
  });
}

/** One exchange over TCP: a 2-byte length prefix each way (RFC 1035 §4.2.2). */
function tcpExchange(server: HostPort, packet: dnsPacket.Packet, timeoutMs: number): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: server.host, port: server.port });
    let buffered = Buffer.alloc(0);
    const finish = (error: Error | undefined, result?: DecodedPacket) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(result as DecodedPacket);
    };
    const timer = setTimeout(() => finish(Object.assign(new Error('DNS over TCP timed out'), { code: 'ETIMEOUT' })), timeoutMs);
    socket.on('error', (error) => finish(error));
    socket.on('connect', () => socket.write(dnsPacket.streamEncode(packet)));
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 2) return;
      const length = buffered.readUInt16BE(0);
      if (buffered.length < 2 + length) return;
      try {
        finish(undefined, dnsPacket.decode(buffered.subarray(2, 2 + length)));
      } catch (error) {
        finish(Object.assign(new Error(`unreadable DNS answer: ${(error as Error).message}`), { code: 'EBADRESP' }));
      }
    });
    socket.on('end', () => finish(Object.assign(new Error('DNS server closed the TCP connection'), { code: 'EBADRESP' })));
  });
}

/** RFC 2308 §5: a negative answer is cached for min(SOA TTL, SOA MINIMUM). */
function negativeTtlOf(reply: DecodedPacket): number | undefined {
  for (const record of reply.authorities ?? []) {
    if (record.type === 'SOA') return Math.min(record.ttl ?? 0, record.data.minimum ?? 0);
  }
  return undefined;
}

type DataAnswer = Exclude<Answer, OptAnswer>;

/** Asks `type name` of the server: the answer records of that type, or a DnsError. */
async function query(server: HostPort, timeoutMs: number, type: RecordType, name: string): Promise<DataAnswer[]> {
  const id = randomInt(0, 65536);
  const packet: dnsPacket.Packet = { type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] };
  const bytes = dnsPacket.encode(packet);
  let reply: DecodedPacket | undefined;
  for (let attempt = 0; attempt < UDP_TRIES && reply === undefined; attempt += 1) {
    reply = await udpExchange(server, bytes, id, timeoutMs).catch((error: NodeJS.ErrnoException) => {
      throw dnsError(error.code ?? 'ECONNREFUSED', type, name);
    });
  }
  if (reply === undefined) throw dnsError('ETIMEOUT', type, name);
  if (reply.flag_tc) {
    reply = await tcpExchange(server, packet, timeoutMs).catch((error: NodeJS.ErrnoException) => {
      throw dnsError(error.code ?? 'ECONNREFUSED', type, name);
    });
  }
  const rcode = (reply.flags ?? 0) & 0xf;
  if (rcode === 3) throw dnsError('ENOTFOUND', type, name, negativeTtlOf(reply));
  if (rcode !== 0) throw dnsError(RCODES[rcode] ?? 'EBADRESP', type, name);
  const records = (reply.answers ?? []).filter((record): record is DataAnswer => record.type === type);
  if (records.length === 0) throw dnsError('ENODATA', type, name, negativeTtlOf(reply));
  return records;
}

/** A resolver that asks only `server` (the lab DNS), with every TTL the zone gives. */
export function createLabResolver(server: HostPort | string, timeoutMs: number): MxResolver {
  const target = parseServer(server);
  const addresses = (records: DataAnswer[]): AddressAnswer[] =>
    records.map((record) => ({ address: String(record.data), ttl: record.ttl ?? 0 }));
  return {
    async resolveMx(name) {
      const records = await query(target, timeoutMs, 'MX', name);
      return records.map((record): MxAnswer => {
        const data = record.data as { preference: number; exchange: string };
        // The root name (a null MX, RFC 7505) comes back as '.' or ''.
        return { exchange: data.exchange === '.' ? '' : data.exchange, priority: data.preference, ttl: record.ttl ?? 0 };
      });
    },
    resolve4: async (name) => addresses(await query(target, timeoutMs, 'A', name)),
    resolve6: async (name) => addresses(await query(target, timeoutMs, 'AAAA', name)),
  };
}
