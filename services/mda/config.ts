/**
 * The MDA's configuration (services/ENV.md, "MDA" and "Common"), read once at start.
 * Defaults are the compose values.
 */
import { z } from 'zod';
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
  })
  .transform((env) => ({
    logLevel: env.LOG_LEVEL,
    usersDir: env.MXLAB_USERS_DIR,
    mailRoot: env.MXLAB_MAIL_ROOT,
    name: env.MDA_NAME,
    hostname: env.MDA_HOSTNAME,
    domains: env.MDA_DOMAINS,
    lmtpListen: env.MDA_LMTP_LISTEN as HostPort[],
  }));

export type MdaConfig = z.output<typeof mdaConfigSchema>;

/** Validates the environment once; a bad variable is named in the thrown ConfigError. */
export function loadMdaConfig(env: NodeJS.ProcessEnv = process.env): MdaConfig {
  return loadConfig(mdaConfigSchema, env);
}
