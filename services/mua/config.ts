/**
 * The MUA's configuration (services/ENV.md, MUA section), read from the environment once
 * at start. `MUA_FALLBACK` names each domain's servers for when the lab DNS has no
 * RFC 6186 SRV records: `domain=imap@host:port;submission@host:port,…`.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { hostPortField, listenListField, logLevelField, loadConfig, parseHostPort, type HostPort } from '../../shared/config.ts';
import { normalizeDomain } from '../../shared/address.ts';
import { clientListField, type ClientList } from '../../shared/client-list.ts';

export interface FallbackServers {
  imap?: HostPort;
  submission?: HostPort;
}

/** Parses `domain=imap@host:port;submission@host:port,…` into a map by domain. */
export function parseFallback(text: string): Map<string, FallbackServers> {
  const result = new Map<string, FallbackServers>();
  for (const entry of text.split(',').map((item) => item.trim()).filter((item) => item !== '')) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new Error(`expected domain=…, got ${JSON.stringify(entry)}`);
    const domain = normalizeDomain(entry.slice(0, eq));
    if (!domain.ok) throw new Error(`${JSON.stringify(entry.slice(0, eq))}: ${domain.reason}`);
    const servers: FallbackServers = result.get(domain.domain) ?? {};
    for (const part of entry.slice(eq + 1).split(';').map((item) => item.trim()).filter((item) => item !== '')) {
      const at = part.indexOf('@');
      const kind = at === -1 ? '' : part.slice(0, at).toLowerCase();
      if (kind !== 'imap' && kind !== 'submission') {
        throw new Error(`expected imap@host:port or submission@host:port, got ${JSON.stringify(part)}`);
      }
      servers[kind] = parseHostPort(part.slice(at + 1), kind === 'imap' ? 143 : 587);
    }
    result.set(domain.domain, servers);
  }
  return result;
}

const fallbackField = z.string().transform((value, ctx) => {
  try {
    return parseFallback(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

export const muaConfigSchema = z.object({
  LOG_LEVEL: logLevelField.optional(),
  MUA_LISTEN: listenListField.default(listenListField.parse('0.0.0.0:8080')),
  MUA_DNS_SERVER: hostPortField.default(hostPortField.parse('172.28.0.2:53')),
  MUA_FALLBACK: fallbackField.default(new Map()),
  /** Empty (compose's `MUA_SESSION_SECRET:`) means unset: a random key per start. */
  MUA_SESSION_SECRET: z.union([z.literal(''), z.string().min(16, 'use at least 16 characters')]).optional(),
  MXLAB_TLS_DIR: z.string().min(1).default('/var/lib/mxlab/tls'),
  /** Proxies whose X-Forwarded-Proto / X-Forwarded-For are believed (TLS in front of the MUA). */
  MUA_TRUST_PROXY: clientListField.optional(),
});

export interface MuaConfig {
  logLevel?: string;
  listen: HostPort[];
  dnsServer: HostPort;
  fallback: Map<string, FallbackServers>;
  /** Key for cookie signatures and CSRF tokens. */
  sessionSecret: string;
  tlsDir: string;
  /** A TLS-terminating proxy in front: cookies become `Secure` when it says https. */
  trustProxy?: ClientList;
}

export function loadMuaConfig(env: NodeJS.ProcessEnv = process.env): MuaConfig {
  const raw = loadConfig(muaConfigSchema, env);
  return {
    ...(raw.LOG_LEVEL ? { logLevel: raw.LOG_LEVEL } : {}),
    listen: raw.MUA_LISTEN,
    dnsServer: raw.MUA_DNS_SERVER,
    fallback: raw.MUA_FALLBACK,
    sessionSecret: raw.MUA_SESSION_SECRET || randomBytes(32).toString('base64url'),
    tlsDir: raw.MXLAB_TLS_DIR,
    ...(raw.MUA_TRUST_PROXY ? { trustProxy: raw.MUA_TRUST_PROXY } : {}),
  };
}
