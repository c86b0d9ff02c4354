/**
 * The MDA's configuration (services/ENV.md, "MDA" and "Common"), read once at start.
 * Defaults are the compose values.
 */
import { z } from 'zod';
import { clientListField } from '../../shared/client-list.ts';
import { listenListField, listField, loadConfig, logLevelField, type HostPort } from '../../shared/config.ts';

export const mdaConfigSchema = z
  .object({
    /** Unset: info, or silent under node --test (shared/log.ts). */
    LOG_LEVEL: logLevelField.optional(),
    MXLAB_USERS_DIR: z.string().min(1).default('/var/lib/mxlab/users'),
    MXLAB_MAIL_ROOT: z.string().min(1).default('/var/mail/mxlab'),
    MDA_NAME: z.string().regex(/^[a-z0-9][a-z0-9-]*$/u, 'lower-case letters, digits and dashes').default('alpha-mda'),
    MDA_HOSTNAME: z.string().min(1).default('lmtp.alpha.test'),
    MDA_DOMAINS: listField.prefault('alpha.test'),
    MDA_LMTP_LISTEN: listenListField.prefault('0.0.0.0:24'),
    /** Who may speak LMTP here: the lab's MTAs (addresses or CIDR ranges) and loopback, for the healthcheck. */
    MDA_LMTP_CLIENTS: clientListField.prefault('127.0.0.1,::1'),
    /** How long a delivered transaction's key is remembered (services/mda/resend.ts): longer than any MTA's queue lifetime. */
    MDA_RESEND_WINDOW_MS: z.coerce.number().int().positive().default(7 * 24 * 60 * 60_000),
    MDA_RESEND_MAX_KEYS: z.coerce.number().int().positive().default(200_000),
  })
  .transform((env) => ({
    logLevel: env.LOG_LEVEL,
    usersDir: env.MXLAB_USERS_DIR,
    mailRoot: env.MXLAB_MAIL_ROOT,
    name: env.MDA_NAME,
    hostname: env.MDA_HOSTNAME,
    domains: env.MDA_DOMAINS,
    lmtpListen: env.MDA_LMTP_LISTEN as HostPort[],
    lmtpClients: env.MDA_LMTP_CLIENTS,
    resendWindowMs: env.MDA_RESEND_WINDOW_MS,
    resendMaxKeys: env.MDA_RESEND_MAX_KEYS,
  }));

export type MdaConfig = z.output<typeof mdaConfigSchema>;

/** Validates the environment once; a bad variable is named in the thrown ConfigError. */
export function loadMdaConfig(env: NodeJS.ProcessEnv = process.env): MdaConfig {
  return loadConfig(mdaConfigSchema, env);
}
