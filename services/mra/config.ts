/** MRA configuration (services/ENV.md, "MRA"), read once from the environment. */
import { z } from 'zod';
import { clientListField } from '../../shared/client-list.ts';
import { booleanField, listenListField, listField, loadConfig, logLevelField } from '../../shared/config.ts';

export const mraConfigSchema = z.object({
  LOG_LEVEL: logLevelField.default('info'),
  MXLAB_USERS_DIR: z.string().min(1).default('/var/lib/mxlab/users'),
  MXLAB_TLS_DIR: z.string().min(1).default('/var/lib/mxlab/tls'),
  MXLAB_MAIL_ROOT: z.string().min(1).default('/var/mail/mxlab'),
  MRA_NAME: z.string().min(1).default('alpha-mra'),
  MRA_HOSTNAME: z.string().min(1).default('imap.alpha.test'),
  MRA_TLS_NAMES: listField.default([]),
  MRA_DOMAINS: listField.default(['alpha.test']),
  MRA_IMAP_LISTEN: listenListField.default([{ host: '0.0.0.0', port: 143 }]),
  MRA_IMAPS_LISTEN: listenListField.default([{ host: '0.0.0.0', port: 993 }]),
  MRA_POP3_LISTEN: listenListField.default([{ host: '0.0.0.0', port: 110 }]),
  MRA_POP3S_LISTEN: listenListField.default([{ host: '0.0.0.0', port: 995 }]),
  MRA_ALLOW_PLAINTEXT_AUTH: booleanField.default(true),
  /** Dovecot's login_trusted_networks: clients whose IMAP ID `x-originating-ip` names the real client (the web mail). */
  MRA_TRUSTED_NETWORKS: clientListField.prefault(''),
  /** RFC 1939 §8 exclusive lock: one POP3 session per maildrop (off: several, as Dovecot). */
  MRA_POP3_LOCK: booleanField.default(false),
});

export type MraConfig = z.output<typeof mraConfigSchema>;

export function loadMraConfig(env: NodeJS.ProcessEnv = process.env): MraConfig {
  return loadConfig(mraConfigSchema, env);
}
