/**
 * The delivery runner: takes due messages from the spool, delivers each recipient by its
 * route (LMTP for local domains, MX for the rest), records every recipient's result
 * durably right after it is known, retries temporary failures with exponential backoff,
 * and bounces permanent failures and expired messages with a DSN to the envelope sender.
 * Its clock (`now`) is the queue clock in the MTA (queue/clock.ts), which the lab can move
 * forward; `expireOverdue` then bounces what is past its deadline at once.
 */
import type { HostPort } from '../../../shared/config.ts';
import type { Logger } from '../../../shared/log.ts';
import { DnsCache } from '../routing/dns-cache.ts';
import type { MxResolver } from '../routing/resolver.ts';
import { isFinal, type Spool } from '../queue/spool.ts';
import type { QueueEntry, RecipientState } from '../queue/types.ts';
import { deliverySettingsFrom, retryDelayMs, type DeliveryEnv, type DeliverySettings } from './config.ts';
import { buildDsn, type DsnRecipient } from './dsn.ts';
import type { DeliveryJob, DeliveryTransport, RecipientOutcome } from './outcome.ts';
import { SmtpClient } from './smtp-client.ts';
import { lmtpTransport, mxTransport } from './transports.ts';
import type { ChaosEngine } from '../../../shared/chaos/engine.ts';
import { chaosResolver } from '../chaos/dns-faults.ts';

/** setTimeout's ceiling; the scheduler wakes up at least this often anyway. */
const MAX_SLEEP_MS = 60_000;
/** RFC 5321 §4.5.3.1.8: a server must take at least 100 recipients; more go in another transaction. */
export const MAX_RCPTS_PER_TRANSACTION = 100;
/** After an internal error (disk, bug) a message waits this long before the next try. */
const INTERNAL_ERROR_RETRY_MS = 5_000;

export interface StartDeliveryOptions {
  queue: Spool;
  /** The MTA config (or anything with the delivery fields of delivery/config.ts). */
  config: DeliveryEnv & { MTA_OUTBOUND_PORT?: number; MTA_SOURCE_ADDRESS?: string };
  /** The lab DNS (createLabResolver), or a DnsCache over it; a bare resolver gets a DnsCache here. */
  resolver: MxResolver;
  /** MTA_HOSTNAME: EHLO name, Reporting-MTA, and the MX loop rule. */
  hostname: string;
  /** MTA_LOCAL_DOMAINS: delivered over LMTP. */
  localDomains: readonly string[];
  /** MTA_RELAY_DOMAINS: delivered by MX like any remote domain (logged as relay). */
  relayDomains: readonly string[];
  /** MTA_LMTP */
  lmtp: HostPort;
  logger: Logger;
  /** Lab CA (PEM) to verify outbound STARTTLS peers. */
  tlsCa?: string;
  /** Tests: the port of an exchange address (default MTA_OUTBOUND_PORT, else 25). */
  portFor?: (address: string, exchange: string) => number;
  /** The MTA's fault plan (its `outbound` rules). */
  chaos?: ChaosEngine;
  /** Tests: replace a transport. */
  transports?: { local?: DeliveryTransport; remote?: DeliveryTransport };
  now?: () => number;
}

export interface DeliveryRunner {
  /** Makes every queued recipient (or those of one message) due now; false for an unknown id. */
  flush(queueId?: string): boolean;
  /**
   * Bounces, without another attempt, every message past its queue lifetime that is not
   * being delivered (after the queue clock moved): the DSN names each recipient's last
   * reply. Resolves to their queue ids once the bounces are queued.
   */
  expireOverdue(): Promise<string[]>;
  /** Looks for due work now. */
  kick(): void;
  /** Queue ids being delivered right now. */
  inFlight(): string[];
  /** The DNS cache the MX routes come from (`GET /dns` shows it). */
  readonly dns: DnsCache;
  /** Resolves once nothing is being delivered and nothing is due. */
  settled(): Promise<void>;
  /** Stops scheduling, waits for attempts in flight, closes kept connections. */
  close(): Promise<void>;
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/** Recipients grouped by domain, at most MAX_RCPTS_PER_TRANSACTION per group. */
export function transactions(due: RecipientState[]): [string, RecipientState[]][] {
  const byDomain = new Map<string, RecipientState[]>();
  for (const state of due) {
    const domain = domainOf(state.recipient);
    byDomain.set(domain, [...(byDomain.get(domain) ?? []), state]);
  }
  const groups: [string, RecipientState[]][] = [];
  for (const [domain, states] of byDomain) {
    for (let i = 0; i < states.length; i += MAX_RCPTS_PER_TRANSACTION) {
      groups.push([domain, states.slice(i, i + MAX_RCPTS_PER_TRANSACTION)]);
    }
  }
  return groups;
}

export function startDelivery(options: StartDeliveryOptions): DeliveryRunner {
  const settings: DeliverySettings = deliverySettingsFrom(options.config);
  const { queue, logger, hostname } = options;
  const now = options.now ?? Date.now;
  const local = new Set(options.localDomains.map((d) => d.toLowerCase()));
  const relay = new Set(options.relayDomains.map((d) => d.toLowerCase()));
  const client = new SmtpClient({
    name: hostname,
    connectTimeoutMs: settings.connectTimeoutMs,
    commandTimeoutMs: settings.commandTimeoutMs,
    ...(options.tlsCa === undefined ? {} : { tlsCa: options.tlsCa }),
    ...(options.config.MTA_SOURCE_ADDRESS ? { localAddress: options.config.MTA_SOURCE_ADDRESS } : {}),
  });
  const localTransport = options.transports?.local ?? lmtpTransport({ client, target: options.lmtp });
  const outboundPort = options.config.MTA_OUTBOUND_PORT ?? 25;
  const dns = options.resolver instanceof DnsCache ? options.resolver : new DnsCache(options.resolver, now);
  const remoteTransport =
    options.transports?.remote ??
    mxTransport({
      client,
      // The plan's DNS faults sit in front of the cache: they act at once and are never cached.
      resolver: options.chaos === undefined ? dns : chaosResolver(dns, options.chaos, logger),
      ownHostnames: [hostname],
      outboundPort,
      ...(options.portFor === undefined ? {} : { portFor: options.portFor }),
      ...(options.chaos === undefined ? {} : { chaos: options.chaos }),
    });

  const running = new Map<string, Promise<void>>();
  const settledWaiters: (() => void)[] = [];
  let timer: NodeJS.Timeout | undefined;
  let kickPending = false;
  let closed = false;

  const isDue = (state: Readonly<RecipientState>, at: number) => !isFinal(state) && state.nextAttemptAt <= at;

  function notifySettled(): void {
    if (running.size > 0 || settledWaiters.length === 0) return;
    const at = now();
    for (const entry of queue.states()) if (entry.recipients.some((state) => isDue(state, at))) return;
    for (const resolve of settledWaiters.splice(0)) resolve();
  }

  function schedule(): void {
    kickPending = false;
    if (closed) return;
    // Every slot is busy: the next attempt to finish kicks the scheduler again (and the timer can wait).
    if (running.size >= settings.concurrency) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    const at = now();
    let nextWake = Infinity;
    for (const entry of queue.states()) {
      if (running.has(entry.queueId)) continue;
      const open = entry.recipients.filter((state) => !isFinal(state));
      if (open.length === 0 || open.some((state) => state.nextAttemptAt <= at)) {
        if (running.size >= settings.concurrency) {
          // Full again: no need to look further now, nor to set a timer (see above).
          nextWake = Infinity;
          break;
        }
        start(entry.queueId);
        continue;
      }
      for (const state of open) nextWake = Math.min(nextWake, state.nextAttemptAt);
    }
    if (nextWake !== Infinity) {
      timer = setTimeout(schedule, Math.min(MAX_SLEEP_MS, Math.max(0, nextWake - at)));
      timer.unref();
    }
    notifySettled();
  }

  function kick(): void {
    if (kickPending || closed) return;
    kickPending = true;
    setImmediate(schedule);
  }

  function start(queueId: string): void {
    const entry = queue.get(queueId);
    if (entry === undefined) return;
    const attempt = attemptMessage(entry)
      .catch((error: unknown) => {
        logger.error({ event: 'delivery.error', queueId: entry.queueId, err: error }, 'delivery attempt failed internally');
        queue.reschedule(entry.queueId, now() + INTERNAL_ERROR_RETRY_MS);
      })
      .finally(() => {
        running.delete(entry.queueId);
        kick();
      });
    running.set(entry.queueId, attempt);
  }

  async function attemptMessage(entry: QueueEntry): Promise<void> {
    const log = logger.child({ queueId: entry.queueId, messageId: entry.messageId });
    const at = now();
    const due = entry.recipients.filter((state) => isDue(state, at));
    if (due.length > 0) {
      const message = await queue.readMessage(entry.queueId);
      const failed: DsnRecipient[] = [];
      const delayed: DsnRecipient[] = [];
      for (const [domain, states] of transactions(due)) {
        const route = local.has(domain) ? 'lmtp' : relay.has(domain) ? 'relay' : 'mx';
        // debug: the delivery.attempt and delivery.result lines that follow say the same and more.
        log.debug({ event: 'delivery.start', domain, route, recipients: states.map((s) => s.recipient), from: entry.mailFrom }, `delivering to ${domain} by ${route}`);
        const job: DeliveryJob = {
          queueId: entry.queueId,
          mailFrom: entry.mailFrom,
          recipients: states.map((s) => s.recipient),
          domain,
          message,
          logger: log,
          ...(entry.messageId === undefined ? {} : { messageId: entry.messageId }),
        };
        const outcomes = await (route === 'lmtp' ? localTransport : remoteTransport).deliver(job);
        for (const outcome of outcomes) {
          const state = states.find((s) => s.recipient === outcome.recipient);
          if (state === undefined) continue;
          await record(entry, state, outcome, log, failed, delayed);
        }
      }
      await notify(entry, failed, delayed, message, log);
    }
    const after = queue.get(entry.queueId);
    if (after !== undefined && after.recipients.every(isFinal)) await queue.remove(entry.queueId, 'done');
  }

  async function record(
    entry: QueueEntry,
    state: RecipientState,
    outcome: RecipientOutcome,
    log: Logger,
    failed: DsnRecipient[],
    delayed: DsnRecipient[],
  ): Promise<void> {
    const at = now();
    const attempts = state.attempts + 1;
    const common = {
      attempts,
      lastAttemptAt: at,
      lastReply: outcome.reply,
      statusCode: outcome.enhanced,
      ...(outcome.remoteMta === undefined ? {} : { remoteMta: outcome.remoteMta }),
    };
    const expiresAt = entry.queuedAt + settings.maxQueueLifetimeMs;
    const remoteName = outcome.remoteMta?.split(' ')[0];
    const dsnBase = { recipient: state.recipient, diagnostic: outcome.reply, lastAttemptAt: at, ...(remoteName === undefined ? {} : { remoteMta: remoteName }) };
    if (outcome.kind === 'delivered') {
      await queue.updateRecipient(entry.queueId, state.recipient, { ...common, status: 'delivered' });
      log.info({ event: 'delivery.result', rcpt: state.recipient, status: 'delivered', reply: outcome.reply, remoteMta: outcome.remoteMta }, `delivered to ${state.recipient}`);
    } else if (outcome.kind === 'permanent' || at >= expiresAt) {
      const expired = outcome.kind !== 'permanent';
      const status = expired ? '4.4.7' : outcome.enhanced;
      const diagnostic = expired ? `${outcome.reply} (message expired after ${Math.round((at - entry.queuedAt) / 1000)} s in queue)` : outcome.reply;
      // The state is written after the bounce is queued (notify), so a crash in between retries, never loses the bounce.
      failed.push({ ...dsnBase, action: 'failed', status, diagnostic });
      log.info({ event: 'delivery.result', rcpt: state.recipient, status: 'failed', expired, reply: diagnostic }, `failed for ${state.recipient}`);
    } else {
      const nextAttemptAt = Math.min(expiresAt, at + retryDelayMs(settings, attempts));
      await queue.updateRecipient(entry.queueId, state.recipient, { ...common, status: 'deferred', nextAttemptAt });
      log.info(
        { event: 'delivery.result', rcpt: state.recipient, status: 'deferred', reply: outcome.reply, attempts, nextAttemptAt: new Date(nextAttemptAt).toISOString() },
        `deferred ${state.recipient}: ${outcome.reply}`,
      );
      const warnAfter = settings.delayWarningAfterMs;
      if (warnAfter > 0 && at - entry.queuedAt >= warnAfter && state.warned !== true) {
        delayed.push({ ...dsnBase, action: 'delayed', status: outcome.enhanced, willRetryUntil: expiresAt });
      }
    }
  }

  /** Fails the open recipients of a message past its deadline with their last reply. */
  async function expireMessage(entry: QueueEntry, at: number): Promise<void> {
    const log = logger.child({ queueId: entry.queueId, messageId: entry.messageId });
    const age = Math.round((at - entry.queuedAt) / 1000);
    const failed: DsnRecipient[] = entry.recipients
      .filter((state) => !isFinal(state))
      .map((state): DsnRecipient => {
        const diagnostic = `${state.lastReply ?? '451 4.4.7 no delivery attempt was made'} (message expired after ${age} s in queue)`;
        log.info({ event: 'delivery.result', rcpt: state.recipient, status: 'failed', expired: true, reply: diagnostic }, `failed for ${state.recipient}`);
        const remoteName = state.remoteMta?.split(' ')[0];
        return { recipient: state.recipient, action: 'failed', status: '4.4.7', diagnostic, lastAttemptAt: state.lastAttemptAt ?? at, ...(remoteName === undefined ? {} : { remoteMta: remoteName }) };
      });
    if (failed.length > 0) await notify(entry, failed, [], await queue.readMessage(entry.queueId), log, false);
    const after = queue.get(entry.queueId);
    if (after !== undefined && after.recipients.every(isFinal)) await queue.remove(entry.queueId, 'done');
  }

  async function notify(entry: QueueEntry, failed: DsnRecipient[], delayed: DsnRecipient[], message: Buffer, log: Logger, attempted = true): Promise<void> {
    for (const [recipients, kind] of [[failed, 'bounce'], [delayed, 'delay warning']] as const) {
      if (recipients.length === 0) continue;
      if (entry.mailFrom === '') {
        log.info({ event: 'dsn.suppressed', kind, recipients: recipients.map((r) => r.recipient) }, `no ${kind} for a null-sender message`);
      } else {
        const dsn = buildDsn({ reportingMta: hostname, queueId: entry.queueId, envelopeFrom: entry.mailFrom, arrivalDate: entry.queuedAt, recipients, originalMessage: message, now: now() });
        const { queueId } = await queue.enqueue({ mailFrom: '', rcptTo: [entry.mailFrom], message: dsn.message, messageId: dsn.messageId, source: 'bounce', clientAddress: '127.0.0.1' });
        log.info({ event: 'dsn.queued', kind, dsnQueueId: queueId, to: entry.mailFrom, recipients: recipients.map((r) => r.recipient) }, `${kind} queued for ${entry.mailFrom}`);
      }
      for (const recipient of recipients) {
        const patch = kind === 'bounce' ? { status: 'failed' as const, bounced: entry.mailFrom !== '' } : { warned: true };
        const state = entry.recipients.find((s) => s.recipient === recipient.recipient);
        const extra = kind === 'bounce' && state !== undefined ? { attempts: state.attempts + (attempted ? 1 : 0), lastAttemptAt: recipient.lastAttemptAt, lastReply: recipient.diagnostic, statusCode: recipient.status } : {};
        await queue.updateRecipient(entry.queueId, recipient.recipient, { ...extra, ...patch });
      }
    }
  }

  const unsubscribe = queue.onEnqueue(() => kick());
  kick();
  logger.info({ event: 'delivery.started', concurrency: settings.concurrency, queued: queue.size }, 'delivery runner started');

  return {
    flush(queueId) {
      const at = now();
      const ids = queueId === undefined ? queue.list().map((entry) => entry.queueId) : [queueId];
      const found = ids.map((id) => queue.reschedule(id, at)).every(Boolean);
      kick();
      return found;
    },
    async expireOverdue() {
      const at = now();
      const expired: string[] = [];
      for (const entry of queue.list()) {
        if (running.has(entry.queueId) || closed) continue;
        if (entry.queuedAt + settings.maxQueueLifetimeMs > at || entry.recipients.every(isFinal)) continue;
        const work = expireMessage(entry, at)
          .catch((error: unknown) => {
            logger.error({ event: 'delivery.error', queueId: entry.queueId, err: error }, 'expiring a message failed internally');
          })
          .finally(() => {
            running.delete(entry.queueId);
            kick();
          });
        running.set(entry.queueId, work);
        expired.push(entry.queueId);
      }
      await Promise.all(expired.map((id) => running.get(id)));
      return expired;
    },
    kick,
    inFlight: () => [...running.keys()],
    dns,
    settled() {
      return new Promise((resolve) => {
        settledWaiters.push(resolve);
        kick();
      });
    },
    async close() {
      closed = true;
      unsubscribe();
      if (timer !== undefined) clearTimeout(timer);
      await Promise.allSettled([...running.values()]);
      client.close();
      await Promise.allSettled([localTransport.close(), remoteTransport.close()]);
      for (const resolve of settledWaiters.splice(0)) resolve();
    },
  };
}
