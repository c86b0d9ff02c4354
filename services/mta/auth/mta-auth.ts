/**
 * The MTA's email authentication, built once from its config: DKIM signing of submitted
 * mail for its own domains, and on the MX port the SPF/DKIM/DMARC/ARC checks (verify.ts)
 * against the lab DNS, with an ARC seal where MTA_ARC_SEAL_DOMAIN is set (the backup MX).
 */
import type { Logger } from '../../../shared/log.ts';
import type { MtaConfig } from '../config.ts';
import { join } from 'node:path';
import { cachingAuthResolver, labAuthResolver, type AuthResolver } from './dns.ts';
import { DkimKeyStore } from './key-store.ts';
import { DkimKeyError, loadSigningKeys, type SigningKey } from './keys.ts';
import { signMessage, type SignOutcome } from './sign.ts';
import { verifyInbound, type AuthVerdict, type Envelope, type VerifySettings } from './verify.ts';

export interface MtaAuth {
  /** The DKIM keys and the selectors signed with (the admin endpoint's /dkim). */
  keys: DkimKeyStore;
  /** Signs a submitted message for its From domain when this MTA holds its key. */
  sign(message: Buffer): Promise<SignOutcome>;
  /** The MX checks; undefined when MTA_AUTH_CHECKS is off. */
  verify?: (message: Buffer, envelope: Envelope) => Promise<AuthVerdict>;
}

/** Default: the lab DNS at MTA_DNS_SERVER, cached for the checks and uncached for key rotation. */
export interface MtaAuthResolvers {
  /** What the MX checks ask (SPF, DKIM keys, DMARC, ARC). */
  resolver?: AuthResolver;
  /** Asked, uncached, whether a new key's record is published before signing with it. */
  keyLookup?: AuthResolver;
}

export async function createMtaAuth(config: MtaConfig, logger: Logger, resolvers: MtaAuthResolvers = {}): Promise<MtaAuth> {
  const signingDomains = config.MTA_DKIM_DOMAINS.length > 0 ? config.MTA_DKIM_DOMAINS : config.MTA_LOCAL_DOMAINS;
  const lookup = resolvers.keyLookup ?? labAuthResolver(config.MTA_DNS_SERVER, config.MTA_DNS_TIMEOUT_MS);
  const keys = await DkimKeyStore.open({
    shippedDir: config.MTA_DKIM_KEYS_DIR,
    stateDir: config.MTA_DKIM_STATE_DIR || join(config.MTA_QUEUE_DIR, 'dkim'),
    domains: signingDomains,
    selectors: config.MTA_DKIM_SELECTORS,
    lookup: async (name) => (await lookup(name, 'TXT')) as string[][],
  });
  let seal: SigningKey | undefined;
  if (config.MTA_ARC_SEAL_DOMAIN !== '') {
    seal = (await loadSigningKeys(config.MTA_DKIM_KEYS_DIR, [config.MTA_ARC_SEAL_DOMAIN], [config.MTA_ARC_SELECTOR])).get(config.MTA_ARC_SEAL_DOMAIN.toLowerCase())?.[0];
    if (!seal) throw new DkimKeyError(`MTA_ARC_SEAL_DOMAIN=${config.MTA_ARC_SEAL_DOMAIN}: no key ${config.MTA_ARC_SELECTOR}.pem in ${config.MTA_DKIM_KEYS_DIR}`);
  }
  logger.info(
    { dkim: keys.list().flatMap((domain) => domain.signing.map((selector) => `${selector}._domainkey.${domain.domain}`)), arcSeal: seal ? `${seal.selector}._domainkey.${seal.domain}` : null, checks: config.MTA_AUTH_CHECKS },
    'email authentication',
  );
  const settings: VerifySettings = {
    authservId: config.MTA_AUTHSERV_ID || config.MTA_HOSTNAME,
    resolver: resolvers.resolver ?? cachingAuthResolver(lookup),
    trustedSealers: config.MTA_ARC_TRUSTED_SEALERS,
    ...(seal ? { seal } : {}),
  };
  return {
    keys,
    sign: (message) => signMessage(message, { get: (domain) => keys.signingKeys(domain) }),
    ...(config.MTA_AUTH_CHECKS ? { verify: (message: Buffer, envelope: Envelope) => verifyInbound(message, envelope, settings) } : {}),
  };
}
