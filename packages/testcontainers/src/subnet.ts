/**
 * A /24 for a new lab that no Docker network and no host interface uses: 172.28.X.0/24
 * with X from 1 to 254 at random (172.28.0.0/24 is the repository's own
 * `docker compose up`, never taken). Two labs that pick the same one at the same moment
 * are told apart by Docker ("Pool overlaps"), and the loser picks again (mail-lab.ts).
 */
import { networkInterfaces } from 'node:os';
import { docker } from './docker.ts';

/** The repository's compose.yaml lab. */
const RESERVED = '172.28.0.0/24';

export interface Cidr {
  base: number;
  bits: number;
}

export function parseCidr(text: string): Cidr | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/u.exec(text.trim());
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const bits = Number(match[5]);
  if (octets.some((octet) => octet > 255) || bits > 32) return undefined;
  const base = octets.reduce((value, octet) => value * 256 + octet, 0);
  return { base: base - (base % 2 ** (32 - bits)), bits };
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const bits = Math.min(a.bits, b.bits);
  const size = 2 ** (32 - bits);
  return Math.floor(a.base / size) === Math.floor(b.base / size);
}

/** The first three octets of a /24 (`172.28.7`), or an error naming what a lab needs. */
export function networkPrefix(subnet: string): string {
  const match = /^(\d{1,3}\.\d{1,3}\.\d{1,3})\.0\/24$/u.exec(subnet);
  if (!match?.[1] || !parseCidr(subnet)) throw new Error(`withSubnet(${JSON.stringify(subnet)}): a lab needs an IPv4 /24 such as 172.28.7.0/24`);
  return match[1];
}

/** Every IPv4 subnet of the Docker networks on this host, and of the host's interfaces. */
export async function subnetsInUse(): Promise<Cidr[]> {
  const used: Cidr[] = [];
  const ids = (await docker(['network', 'ls', '--quiet'])).split('\n').filter((id) => id !== '');
  if (ids.length > 0) {
    const out = await docker(['network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Subnet}} {{end}}', ...ids]);
    for (const text of out.split(/\s+/u)) {
      const cidr = parseCidr(text);
      if (cidr) used.push(cidr);
    }
  }
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family !== 'IPv4' || address.internal || !address.cidr) continue;
      const cidr = parseCidr(address.cidr);
      if (cidr) used.push(cidr);
    }
  }
  return used;
}

/** A free 172.28.X.0/24, X at random; `avoid` holds the ones a failed attempt already tried. */
export function pickSubnet(used: readonly Cidr[], avoid: ReadonlySet<string> = new Set(), random: () => number = Math.random): string {
  const reserved = parseCidr(RESERVED) as Cidr;
  const free: string[] = [];
  for (let third = 1; third <= 254; third += 1) {
    const subnet = `172.28.${third}.0/24`;
    const cidr = parseCidr(subnet) as Cidr;
    if (avoid.has(subnet) || overlaps(cidr, reserved) || used.some((other) => overlaps(cidr, other))) continue;
    free.push(subnet);
  }
  const chosen = free[Math.floor(random() * free.length)];
  if (chosen === undefined) throw new Error('no free /24 in 172.28.0.0/16 for a mail lab: name one with withSubnet("10.99.0.0/24")');
  return chosen;
}
