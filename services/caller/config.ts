/**
 * The caller's configuration (services/ENV.md, "Caller" and "Common"), read once at
 * start. Defaults are the compose values; the rule knobs have lab defaults.
 */
import { z } from 'zod';
import { adminTokenField } from '../../shared/admin-guard.ts';
import { clientListField } from '../../shared/client-list.ts';
import { durationMsField, hostPortField, listenListField, listField, loadConfig, logLevelField, type HostPort } from '../../shared/config.ts';

/** Largest message accepted on `POST /v1/scan` (the MTAs accept up to 64 MiB too). */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** Empty = not configured. */
const optionalHostPortField = z.string().transform((value, ctx): HostPort | null => {
  if (value.trim() === '') return null;
  const parsed = hostPortField.safeParse(value);
  if (!parsed.success) {
    ctx.addIssue({ code: 'custom', message: `expected host:port or empty, got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return parsed.data;
});

export const callerConfigSchema = z
  .object({
    /** Unset: info, or silent under node --test (shared/log.ts). */
    LOG_LEVEL: logLevelField.optional(),
    CALLER_LISTEN: listenListField.prefault('0.0.0.0:8025'),
    CALLER_DNS_SERVER: hostPortField.prefault('172.28.0.2:53'),
    CALLER_CLAMD: optionalHostPortField.prefault(''),
    CALLER_SPAMD: optionalHostPortField.prefault(''),
    CALLER_ENGINE_TIMEOUT_MS: durationMsField.min(1).default(5000),
    CALLER_MAX_MESSAGE_BYTES: z.coerce.number().int().positive().default(DEFAULT_MAX_MESSAGE_BYTES),
    /** Who may post scans (addresses or CIDR ranges): the lab's MTAs; compose and `npm start` list them. */
    CALLER_CLIENTS: clientListField.prefault('127.0.0.1,::1'),
    /** Empty = none; otherwise every scan must carry `Authorization: Bearer <token>` (MTA_CALLER_TOKEN). */
    CALLER_TOKEN: z.string().prefault(''),
    /** Scans read and run at once; more wait (their bodies unread) up to CALLER_MAX_WAITING_SCANS, then 503. */
    CALLER_MAX_SCANS: z.coerce.number().int().positive().default(16),
    CALLER_MAX_WAITING_SCANS: z.coerce.number().int().nonnegative().default(64),
    /** Envelope or From: addresses (`user@domain`) or whole domains (`domain`, `@domain`). */
    CALLER_BLOCKED_SENDERS: listField.prefault(''),
    /** URL hosts (a host blocks its subdomains too) or URL prefixes (`host/path`). */
    CALLER_BLOCKED_URLS: listField.prefault(''),
    /** Recipients (envelope, or To: and Cc:) at which MANY_RCPTS hits. */
    CALLER_MANY_RECIPIENTS: z.coerce.number().int().positive().default(10),
    /** A fault plan file (JSON) loaded at start: `{"rules":[…]}`, or a lab plan whose `caller` entry it takes. DNS rules only. */
    CALLER_CHAOS_PLAN: z.string().prefault(''),
    /** When set, the fault plan endpoints (`/chaos`, `/dns`) need `Authorization: Bearer <token>`, as the MTAs' admin endpoints. */
    MXLAB_ADMIN_TOKEN: adminTokenField,
  })
  .transform((env) => ({
    logLevel: env.LOG_LEVEL,
    listen: env.CALLER_LISTEN as HostPort[],
    dnsServer: env.CALLER_DNS_SERVER as HostPort,
    clamd: env.CALLER_CLAMD,
    spamd: env.CALLER_SPAMD,
    engineTimeoutMs: env.CALLER_ENGINE_TIMEOUT_MS,
    maxMessageBytes: env.CALLER_MAX_MESSAGE_BYTES,
    clients: env.CALLER_CLIENTS,
    token: env.CALLER_TOKEN === '' ? undefined : env.CALLER_TOKEN,
    maxScans: env.CALLER_MAX_SCANS,
    maxWaitingScans: env.CALLER_MAX_WAITING_SCANS,
    blockedSenders: env.CALLER_BLOCKED_SENDERS.map((entry) => entry.replace(/^@/u, '')),
    blockedUrls: env.CALLER_BLOCKED_URLS,
    manyRecipients: env.CALLER_MANY_RECIPIENTS,
    chaosPlan: env.CALLER_CHAOS_PLAN === '' ? undefined : env.CALLER_CHAOS_PLAN,
    adminToken: env.MXLAB_ADMIN_TOKEN === '' ? undefined : env.MXLAB_ADMIN_TOKEN,
  }));

export type CallerConfig = z.output<typeof callerConfigSchema>;

/** Validates the environment once; a bad variable is named in the thrown ConfigError. */
export function loadCallerConfig(env: NodeJS.ProcessEnv = process.env): CallerConfig {
  return loadConfig(callerConfigSchema, env);
}
