/**
 * Starts one MTA (alpha-mta, beta-mx1 or beta-mx2) from its config: the MX, submission
 * and implicit-TLS submission listeners (an empty list turns a kind off), on the durable
 * spool, with the delivery runner and the admin endpoint (queue, chaos) over it. Tests
 * pass a queue, a resolver or a logger and bind port 0.
 */
import { AuthPenalty } from '../../shared/auth-penalty.ts';
import type { AddressInfo } from 'node:net';
import { createLogger, type Logger } from '../../shared/log.ts';
import { ensureServerCertificate } from '../../shared/tls.ts';
import { UserDirectory } from '../../shared/users.ts';
import type { MtaConfig } from './config.ts';
import { createAdminApp } from './admin/app.ts';
import { createAuthResolver, labAuthResolver, type AuthResolver } from './auth/dns.ts';
import { createMtaAuth } from './auth/mta-auth.ts';
import { listenAdmin, type AdminServerHandle } from './admin/listen.ts';
import { startDelivery, type DeliveryRunner } from './delivery/runner.ts';
import { Spool } from './queue/spool.ts';
import type { Queue } from './queue/types.ts';
import { DnsCache } from './routing/dns-cache.ts';
import { hasNullMx } from './routing/null-mx.ts';
import { createLabResolver, type MxResolver } from './routing/resolver.ts';
import { AuthThrottle } from './smtp/auth-throttle.ts';
import type { CallerSettings } from './smtp/caller-client.ts';
import { ChaosEngine } from '../../shared/chaos/engine.ts';
import { chaosAuthResolver } from './chaos/auth-dns-faults.ts';
import { planFor, readPlanFile } from '../../shared/chaos/plan-file.ts';
import { QueueClock } from './queue/clock.ts';
import type { ListenerDeps } from './smtp/common-options.ts';
import { ListenError, openListener, type ListenerHandle } from './smtp/listener.ts';
import { createMxServer } from './smtp/mx-server.ts';
import { MailPolicy } from './smtp/policy.ts';
import { openResendGuard, type ResendGuard } from './smtp/resend.ts';
import { PregreetCache } from './smtp/pregreet.ts';
import { ConnectionCounter, type ListenerKind } from './smtp/session.ts';
import { createSubmissionServer } from './smtp/submission-server.ts';

export interface MtaDeps {
  /**
   * Default: the durable spool in MTA_QUEUE_DIR. Delivery runs only from a Spool; any
   * other Queue (a test fake) only receives what the listeners accept.
   */
  queue?: Queue;
  /** Default: the lab DNS at MTA_DNS_SERVER (used by delivery). */
  resolver?: MxResolver;
  /** Default: the lab DNS at MTA_DNS_SERVER (used by the SPF/DKIM/DMARC/ARC checks). */
  authResolver?: AuthResolver;
  logger?: Logger;
  chaos?: ChaosEngine;
  /** Default: real time, moved by `POST /queue/advance`. */
  clock?: QueueClock;
  throttle?: AuthThrottle;
  /** Submission's auth penalty per client address (shared/auth-penalty.ts). */
  penalty?: AuthPenalty;
  /** Overrides MTA_PREGREET_WAIT_MS (0 = no pregreet test). */
  earlyTalkerWaitMs?: number;
  /** The MX port's pregreet test with its memory of passed addresses; overrides earlyTalkerWaitMs. */
  pregreet?: PregreetCache;
  /** Overrides MAX_MESSAGE_BYTES. */
  maxMessageBytes?: number;
  /** Overrides MAX_CONNECTIONS_PER_IP. */
  maxConnectionsPerIp?: number;
}

export interface MtaHandle {
  smtp: AddressInfo[];
  submission: AddressInfo[];
  submissions: AddressInfo[];
  admin?: AddressInfo;
  chaos: ChaosEngine;
  clock: QueueClock;
  queue: Queue;
  /** Present when the queue is a Spool. */
  delivery?: DeliveryRunner;
  close(): Promise<void>;
}

function callerSettings(config: MtaConfig): CallerSettings | undefined {
  if (config.MTA_CALLER_URL === null) return undefined;
  return {
    url: config.MTA_CALLER_URL,
    timeoutMs: config.MTA_CALLER_TIMEOUT_MS,
    failOpen: config.MTA_CALLER_FAIL_OPEN,
    tagScore: config.MTA_SPAM_TAG_SCORE,
    rejectScore: config.MTA_SPAM_REJECT_SCORE,
    ...(config.MTA_CALLER_TOKEN === '' ? {} : { token: config.MTA_CALLER_TOKEN }),
    // The caller answers only the lab's MTAs, by address (CALLER_CLIENTS): scans leave from the MTA's own.
    ...(config.MTA_SOURCE_ADDRESS === '' ? {} : { localAddress: config.MTA_SOURCE_ADDRESS }),
  };
}

/** MTA_CHAOS_PLAN: this MTA's rules of the file; a bad plan stops the start, naming the field. */
async function loadStartPlan(chaos: ChaosEngine, path: string, mtaName: string): Promise<void> {
  const loaded = chaos.replace(planFor(await readPlanFile(path), mtaName, path));
  if (!loaded.ok) throw new Error(`MTA_CHAOS_PLAN ${path}: ${loaded.error}`);
}

export async function startMta(config: MtaConfig, deps: MtaDeps = {}): Promise<MtaHandle> {
  const logger = deps.logger ?? createLogger(config.MTA_NAME, config.LOG_LEVEL);
  const chaos = deps.chaos ?? new ChaosEngine({ logger: logger.child({ component: 'chaos' }) });
  if (config.MTA_CHAOS_PLAN !== '') await loadStartPlan(chaos, config.MTA_CHAOS_PLAN, config.MTA_NAME);
  const clock = deps.clock ?? new QueueClock();
  const queue = deps.queue ?? (await Spool.open({ dir: config.MTA_QUEUE_DIR, logger: logger.child({ component: 'queue' }), now: clock.now }));
  const tls = await ensureServerCertificate(config.MXLAB_TLS_DIR, config.MTA_NAME, [config.MTA_HOSTNAME, ...config.MTA_TLS_NAMES]);
  const caller = callerSettings(config);
  // One DNS cache for the MTA: delivery routes by it, submission checks null MXes with it, GET /dns shows it.
  const dns = new DnsCache(deps.resolver ?? createLabResolver(config.MTA_DNS_SERVER, config.MTA_DNS_TIMEOUT_MS));
  const resend: ResendGuard | undefined =
    queue instanceof Spool && config.MTA_PEER_ADDRESSES.length > 0
      ? await openResendGuard({
          queueDir: config.MTA_QUEUE_DIR,
          peers: config.MTA_PEER_ADDRESSES,
          windowMs: config.MTA_RESEND_WINDOW_MS,
          maxKeys: config.MTA_RESEND_MAX_KEYS,
          queued: queue.list(),
        })
      : undefined;
  // The MX checks' DNS, with the plan's DNS faults in front of it (as the router's, in delivery).
  const authResolver = chaosAuthResolver(deps.authResolver ?? createAuthResolver(config.MTA_DNS_SERVER, config.MTA_DNS_TIMEOUT_MS), chaos, logger.child({ component: 'chaos' }));
  // Whether a new DKIM key is published yet is asked afresh each time (key rotation, PUT /dkim/signing).
  const keyLookup = deps.authResolver ?? labAuthResolver(config.MTA_DNS_SERVER, config.MTA_DNS_TIMEOUT_MS);
  const auth = await createMtaAuth(config, logger.child({ component: 'auth' }), { resolver: authResolver, keyLookup });
  const listenerDeps: ListenerDeps = {
    name: config.MTA_NAME,
    hostname: config.MTA_HOSTNAME,
    tls,
    policy: new MailPolicy({
      localDomains: config.MTA_LOCAL_DOMAINS,
      relayDomains: config.MTA_RELAY_DOMAINS,
      relayRecipients: config.MTA_RELAY_RECIPIENTS,
      users: new UserDirectory(config.MXLAB_USERS_DIR),
    }),
    queue,
    chaos,
    throttle: deps.throttle ?? new AuthThrottle(),
    penalty: deps.penalty ?? new AuthPenalty(),
    connections: new ConnectionCounter(deps.maxConnectionsPerIp),
    ...(caller ? { caller } : {}),
    ...(resend ? { resend } : {}),
    nullMx: (domain) => hasNullMx(domain, dns),
    auth,
    logger,
    ...(deps.maxMessageBytes === undefined ? {} : { maxMessageBytes: deps.maxMessageBytes }),
  };

  const handles: ListenerHandle[] = [];
  let delivery: DeliveryRunner | undefined;
  let admin: AdminServerHandle | undefined;
  const closeAll = async (): Promise<void> => {
    await admin?.close();
    await Promise.all(handles.map((handle) => handle.close()));
    await delivery?.close();
    await resend?.log.close();
  };
  // One cache for all MX listeners: a client that passed on one address passed on all.
  const pregreet = deps.pregreet ?? new PregreetCache({ waitMs: deps.earlyTalkerWaitMs ?? config.MTA_PREGREET_WAIT_MS, ttlMs: config.MTA_PREGREET_TTL_MS });
  const plan: { kind: ListenerKind; listen: MtaConfig['MTA_SMTP_LISTEN'] }[] = [
    { kind: 'smtp', listen: config.MTA_SMTP_LISTEN },
    { kind: 'submission', listen: config.MTA_SUBMISSION_LISTEN },
    { kind: 'submissions', listen: config.MTA_SUBMISSIONS_LISTEN },
  ];
  try {
    for (const { kind, listen } of plan) {
      for (const address of listen) {
        const implicitTls = kind === 'submissions';
        const smtp = kind === 'smtp' ? createMxServer(listenerDeps) : createSubmissionServer(listenerDeps, { implicitTls });
        handles.push(
          await openListener({
            kind,
            listen: address,
            smtp,
            logger,
            ...(kind === 'smtp' ? { pregreet } : {}),
          }),
        );
      }
    }
    if (queue instanceof Spool) {
      delivery = startDelivery({
        queue,
        config,
        resolver: dns,
        hostname: config.MTA_HOSTNAME,
        localDomains: config.MTA_LOCAL_DOMAINS,
        relayDomains: config.MTA_RELAY_DOMAINS,
        lmtp: config.MTA_LMTP,
        logger: logger.child({ component: 'delivery' }),
        tlsCa: tls.ca,
        chaos,
        now: clock.now,
      });
      if (config.MTA_ADMIN_LISTEN.length > 0) {
        const guard = { names: [config.MTA_HOSTNAME, ...config.MTA_TLS_NAMES], token: config.MXLAB_ADMIN_TOKEN };
        const app = createAdminApp({ queue, runner: delivery, chaos, clock, dns, dkim: auth.keys, logger: logger.child({ component: 'admin' }), name: config.MTA_NAME, guard });
        try {
          admin = await listenAdmin(app, config.MTA_ADMIN_LISTEN);
        } catch (error) {
          throw new ListenError(`MTA admin listener cannot listen: ${(error as Error).message}`, { cause: error });
        }
      }
    }
  } catch (error) {
    await closeAll();
    throw error;
  }
  logger.info(
    {
      hostname: config.MTA_HOSTNAME,
      localDomains: config.MTA_LOCAL_DOMAINS,
      relayDomains: config.MTA_RELAY_DOMAINS,
      caller: caller?.url ?? null,
    },
    'MTA started',
  );

  const addresses = (kind: ListenerKind): AddressInfo[] => handles.filter((handle) => handle.kind === kind).map((handle) => handle.address);
  let closing: Promise<void> | undefined;
  return {
    smtp: addresses('smtp'),
    submission: addresses('submission'),
    submissions: addresses('submissions'),
    chaos,
    clock,
    queue,
    ...(delivery ? { delivery } : {}),
    ...(admin?.addresses[0] ? { admin: admin.addresses[0] } : {}),
    close() {
      closing ??= closeAll().then(() => logger.info('MTA stopped'));
      return closing;
    },
  };
}
