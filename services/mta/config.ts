/**
 * The MTA's configuration (services/ENV.md, "MTA" and "Common"), read once at start.
 * Defaults are the compose values; the delivery fields (retry schedule, timeouts) come
 * from services/mta/delivery/config.ts.
 */
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { adminTokenField } from '../../shared/admin-guard.ts';
import {
  booleanField,
  hostPortField,
  listenListField,
  listField,
  loadConfig as loadEnvConfig,
  logLevelField,
} from '../../shared/config.ts';
import { deliveryConfigFields } from './delivery/config.ts';
import { EARLY_TALKER_WAIT_MS, PREGREET_TTL_MS } from './smtp/limits.ts';

/** Seven days: longer than RFC 5321 §4.5.4.1's 4–5 days of retries, far longer than the lab's 1 h queue lifetime. */
export const DEFAULT_RESEND_WINDOW_MS = 7 * 24 * 60 * 60_000;
export const DEFAULT_RESEND_MAX_KEYS = 200_000;
/** The caller's engines get 5 s each (CALLER_ENGINE_TIMEOUT_MS); the MTA waits a little longer. */
export const DEFAULT_CALLER_TIMEOUT_MS = 15_000;

/** Empty = no reject threshold (the lab default: spam reaches Junk where people can look at it). */
const optionalScoreField = z
  .string()
  .transform((value, ctx): number | null => {
    if (value.trim() === '') return null;
    const score = Number(value);
    if (!Number.isFinite(score)) {
      ctx.addIssue({ code: 'custom', message: `expected a number or empty, got ${JSON.stringify(value)}` });
      return z.NEVER;
    }
    return score;
  });

/** Empty = no caller; otherwise an http(s) base URL without a trailing slash. */
const optionalUrlField = z.string().transform((value, ctx): string | null => {
  const text = value.trim().replace(/\/+$/u, '');
  if (text === '') return null;
  if (!/^https?:\/\/[^/\s]+/u.test(text)) {
    ctx.addIssue({ code: 'custom', message: `expected an http(s) URL or empty, got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return text;
});

/** The lab's DKIM keys shipped in the repo (services/mta/auth/README.md). */
export const LAB_DKIM_KEYS_DIR = fileURLToPath(new URL('./auth/keys', import.meta.url));

export const mtaConfigSchema = z.object({
  /** Absent: info, silent under node --test (shared/log.ts). */
  LOG_LEVEL: logLevelField.optional(),
  MXLAB_USERS_DIR: z.string().min(1).default('/var/lib/mxlab/users'),
  MXLAB_TLS_DIR: z.string().min(1).default('/var/lib/mxlab/tls'),
  MXLAB_PASSWORD: z.string().min(1).default('secret'),

  MTA_NAME: z.string().regex(/^[a-z0-9][a-z0-9-]*$/u, 'lower-case letters, digits and dashes').default('alpha-mta'),
  MTA_HOSTNAME: z.string().min(1).default('mx.alpha.test'),
  MTA_TLS_NAMES: listField.prefault(''),
  MTA_LOCAL_DOMAINS: listField.prefault('alpha.test'),
  MTA_RELAY_DOMAINS: listField.prefault(''),
  /**
   * Relay domains whose recipients this backup MX knows (the lab's user directory), as
   * Postfix's relay_recipient_maps: an unknown user there is refused at RCPT (550 5.1.1),
   * never accepted and bounced later to a forged sender (backscatter).
   */
  MTA_RELAY_RECIPIENTS: listField.prefault(''),
  MTA_SMTP_LISTEN: listenListField.prefault('0.0.0.0:25'),
  MTA_SUBMISSION_LISTEN: listenListField.prefault('0.0.0.0:587'),
  MTA_SUBMISSIONS_LISTEN: listenListField.prefault('0.0.0.0:465'),
  MTA_ADMIN_LISTEN: listenListField.prefault('0.0.0.0:8026'),
  /** Bearer token the admin endpoint asks for (shared/admin-guard.ts); empty: none (the lab's default). */
  MXLAB_ADMIN_TOKEN: adminTokenField,
  MTA_QUEUE_DIR: z.string().min(1).default('/var/spool/mxlab'),
  MTA_DNS_SERVER: hostPortField.prefault('172.28.0.2:53'),
  MTA_OUTBOUND_PORT: z.coerce.number().int().min(1).max(65535).default(25),
  /** Source address of outbound SMTP and LMTP connections; empty = the system's choice. */
  MTA_SOURCE_ADDRESS: z.string().default(''),
  MTA_LMTP: hostPortField.prefault('172.28.0.11:24'),
  MTA_CALLER_URL: optionalUrlField.prefault(''),
  MTA_CALLER_FAIL_OPEN: booleanField.prefault('false'),
  /** Sent as `Authorization: Bearer …` when the caller has CALLER_TOKEN; empty = none. */
  MTA_CALLER_TOKEN: z.string().prefault(''),
  /** Not in ENV.md's table: how long DATA waits for the caller's verdict before 451 (or fail-open). */
  MTA_CALLER_TIMEOUT_MS: z.coerce.number().int().positive().default(DEFAULT_CALLER_TIMEOUT_MS),
  MTA_SPAM_TAG_SCORE: z.coerce.number().default(5),
  MTA_SPAM_REJECT_SCORE: optionalScoreField.prefault(''),
  /** The lab's MTAs: their resent transactions are recognised and not stored twice (services/mta/smtp/resend.ts). Empty = off. */
  MTA_PEER_ADDRESSES: listField.prefault(''),
  /** How long a transaction key is remembered: longer than any sender's queue lifetime. */
  MTA_RESEND_WINDOW_MS: z.coerce.number().int().positive().default(DEFAULT_RESEND_WINDOW_MS),
  /** At most this many keys are remembered (about 150 bytes each in memory); the oldest go first. */
  MTA_RESEND_MAX_KEYS: z.coerce.number().int().positive().default(DEFAULT_RESEND_MAX_KEYS),
  MTA_PREGREET_WAIT_MS: z.coerce.number().int().min(0).default(EARLY_TALKER_WAIT_MS),
  MTA_PREGREET_TTL_MS: z.coerce.number().int().min(0).default(PREGREET_TTL_MS),
  /** A fault plan file (JSON, shared/chaos/rules.ts) loaded at start; empty = none. */
  MTA_CHAOS_PLAN: z.string().default(''),

  /** Email authentication (services/mta/auth): SPF/DKIM/DMARC/ARC checks on the MX port. */
  MTA_AUTH_CHECKS: booleanField.prefault('true'),
  /** RFC 8601 authserv-id; empty = MTA_HOSTNAME. */
  MTA_AUTHSERV_ID: z.string().default(''),
  MTA_DKIM_KEYS_DIR: z.string().min(1).default(LAB_DKIM_KEYS_DIR),
  /** Keys made at run time and the selectors chosen (POST /dkim/keys, PUT /dkim/signing); empty = `<MTA_QUEUE_DIR>/dkim`. */
  MTA_DKIM_STATE_DIR: z.string().default(''),
  /** Domains whose submitted mail is signed; empty = MTA_LOCAL_DOMAINS. */
  MTA_DKIM_DOMAINS: listField.prefault(''),
  /** Selectors signed with, each `<MTA_DKIM_KEYS_DIR>/<domain>/<selector>.pem` that exists. */
  MTA_DKIM_SELECTORS: listField.prefault('lab1,lab1e'),
  /** ARC-seal what the MX port accepts, as this domain (the backup MX: beta.test); empty = no seal. */
  MTA_ARC_SEAL_DOMAIN: z.string().default(''),
  MTA_ARC_SELECTOR: z.string().min(1).default('lab1'),
  /** ARC sealers (d=) whose dmarc=pass outweighs a DMARC failure here (the primary MX: beta.test). */
  MTA_ARC_TRUSTED_SEALERS: listField.prefault(''),

  ...deliveryConfigFields,
}).superRefine((config, ctx) => {
  const relay = new Set(config.MTA_RELAY_DOMAINS.map((domain) => domain.toLowerCase()));
  for (const domain of config.MTA_RELAY_RECIPIENTS) {
    if (!relay.has(domain.toLowerCase())) ctx.addIssue({ code: 'custom', path: ['MTA_RELAY_RECIPIENTS'], message: `${domain} is not one of MTA_RELAY_DOMAINS` });
  }
});

export type MtaConfig = z.output<typeof mtaConfigSchema>;

/** Validates the environment once; a bad variable is named in the thrown ConfigError. */
export function loadMtaConfig(env: NodeJS.ProcessEnv = process.env): MtaConfig {
  return loadEnvConfig(mtaConfigSchema, env);
}

