/**
 * The no-Docker DNS server's configuration (services/ENV.md, "DNS"), read once at start.
 */
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { listenListField, loadConfig, logLevelField } from '../../shared/config.ts';

/** The repository's zone files, the same ones CoreDNS serves in compose. */
export const DEFAULT_ZONES_DIR = fileURLToPath(new URL('./zones/', import.meta.url));

export const dnsConfigSchema = z.object({
  LOG_LEVEL: logLevelField.optional(),
  DNS_LISTEN: listenListField.prefault('127.0.0.1:5353'),
  DNS_ZONES_DIR: z.string().min(1).default(DEFAULT_ZONES_DIR),
  DNS_ADDRESS_MODE: z.enum(['loopback', 'compose']).default('loopback'),
});
export type DnsConfig = z.output<typeof dnsConfigSchema>;

export function loadDnsConfig(env: NodeJS.ProcessEnv = process.env): DnsConfig {
  const config = loadConfig(dnsConfigSchema, env);
  if (config.DNS_LISTEN.length === 0) throw new Error('DNS_LISTEN must name at least one host:port');
  return config;
}
