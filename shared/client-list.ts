/**
 * "Only these clients": a list of addresses and CIDR ranges (`172.28.0.10`,
 * `127.0.0.0/8`, `::1`), as in Postfix's mynetworks or Dovecot's login_trusted_networks.
 * Used where an internal hop must answer only the lab's own agents (issue 19, item 4).
 */
import { BlockList, isIP } from 'node:net';
import { z } from 'zod';

export interface ClientList {
  /** The entries as configured, for logs and error messages. */
  entries: readonly string[];
  allows(address: string | undefined): boolean;
}

/** `::ffff:172.28.0.10` (an IPv4 client on a dual-stack socket) is `172.28.0.10`. */
export function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/iu.exec(address);
  return mapped?.[1] ?? address;
}

export function parseClientList(entries: readonly string[]): ClientList | string {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefixText, extra] = entry.split('/');
    const family = isIP(address);
    const prefix = prefixText === undefined ? undefined : Number(prefixText);
    const max = family === 6 ? 128 : 32;
    if (family === 0 || extra !== undefined || (prefix !== undefined && !(Number.isInteger(prefix) && prefix >= 0 && prefix <= max))) {
      return `${JSON.stringify(entry)} is not an address or a CIDR range`;
    }
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, prefix, type);
  }
  return {
    entries,
    allows(address) {
      if (address === undefined) return false;
      const plain = plainAddress(address);
      const family = isIP(plain);
      return family !== 0 && list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
    },
  };
}

/** A comma-separated env value; each entry is checked at start. */
export const clientListField = z.string().transform((value, ctx) => {
  const parsed = parseClientList(value.split(',').map((item) => item.trim()).filter((item) => item !== ''));
  if (typeof parsed === 'string') {
    ctx.addIssue({ code: 'custom', message: parsed });
    return z.NEVER;
  }
  return parsed;
});
