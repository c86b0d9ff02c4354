/**
 * The no-Docker DNS server's configuration (services/ENV.md, "DNS"), read once at start.
 */
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { listenListField, loadConfig, logLevelField } from '../../shared/config.ts';
import type { AddressMode } from './zone-store.ts';

/** The repository's zone files, the same ones CoreDNS serves in compose. */
export const DEFAULT_ZONES_DIR = fileURLToPath(new URL('./zones/', import.meta.url));

export const dnsConfigSchema = z.object({
  LOG_LEVEL: logLevelField.optional(),
  DNS_LISTEN: listenListField.prefault('127.0.0.1:5353'),
  DNS_ZONES_DIR: z.string().min(1).default(DEFAULT_ZONES_DIR),
  DNS_ADDRESS_MODE: z.enum(['loopback', 'compose', 'network']).default('loopback'),
  /** Mode `network`: the /24 the lab's A records move to (`172.28.7.0/24`). */
  DNS_NETWORK: z
    .string()
    .regex(/^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}0\/24$/u, 'must be an IPv4 /24 such as 172.28.7.0/24')
    .optional(),
});
export type DnsConfig = z.output<typeof dnsConfigSchema>;

export function loadDnsConfig(env: NodeJS.ProcessEnv = process.env): DnsConfig {
  const config = loadConfig(dnsConfigSchema, env);
  if (config.DNS_LISTEN.length === 0) throw new Error('DNS_LISTEN must name at least one host:port');
  if (config.DNS_ADDRESS_MODE === 'network' && config.DNS_NETWORK === undefined) {
    throw new Error('DNS_NETWORK must name the /24 of DNS_ADDRESS_MODE=network (e.g. 172.28.7.0/24)');
  }
  return config;
}

/** The address mode the zone store applies, from the validated config. */
export function addressModeOf(config: DnsConfig): AddressMode {
  if (config.DNS_ADDRESS_MODE !== 'network') return config.DNS_ADDRESS_MODE;
  return { network: (config.DNS_NETWORK ?? '').slice(0, -'.0/24'.length) };
}
