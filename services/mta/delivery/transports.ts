/**
 * The two ways a queued message leaves: LMTP to the domain's MDA for local domains, and
 * SMTP to the MX hosts of the recipient's domain for everything else (relayed domains
 * too: the backup MX forwards by MX, cut below its own preference by the planner).
 *
 * MX rules (RFC 5321 §5.1): every address of an exchange, then the next exchange;
 * refused, timeout, garbage, 4xx → next address; a 5xx in the transaction is final for
 * the recipients it names, no other exchange is asked; whoever is still undecided after
 * the last address is deferred with the last reply seen.
 */
import type { HostPort } from '../../../shared/config.ts';
import { planRoute, routeFailureReply } from '../routing/mx-plan.ts';
import type { MxResolver } from '../routing/resolver.ts';
import type { ChaosEngine } from '../../../shared/chaos/engine.ts';
import { alterOneBodyByte } from '../chaos/body-fault.ts';
import type { DeliveryJob, DeliveryTransport, RecipientOutcome } from './outcome.ts';
import type { Destination, HostResult, SmtpClient } from './smtp-client.ts';

function applyResult(
  result: HostResult,
  undecided: Map<string, RecipientOutcome>,
  decided: RecipientOutcome[],
  remoteMta: string,
): void {
  if (result.kind === 'failed') {
    for (const recipient of [...undecided.keys()]) {
      const outcome: RecipientOutcome = {
        recipient,
        kind: result.permanent ? 'permanent' : 'temporary',
        reply: result.reply,
        enhanced: result.enhanced,
        remoteMta,
      };
      if (result.permanent) {
        undecided.delete(recipient);
        decided.push(outcome);
      } else {
        undecided.set(recipient, outcome);
      }
    }
    return;
  }
  for (const outcome of result.outcomes) {
    if (outcome.kind === 'temporary') {
      undecided.set(outcome.recipient, outcome);
    } else {
      undecided.delete(outcome.recipient);
      decided.push(outcome);
    }
  }
}

function logAttempt(job: DeliveryJob, destination: Destination, result: HostResult): void {
  const summary =
    result.kind === 'failed'
      ? { result: result.permanent ? 'permanent' : 'temporary', reply: result.reply }
      : { result: 'transaction', tls: result.tls ?? false, recipients: result.outcomes.map((o) => ({ rcpt: o.recipient, kind: o.kind, reply: o.reply })) };
  job.logger.info(
    {
      event: 'delivery.attempt',
      protocol: destination.lmtp ? 'LMTP' : 'SMTP',
      exchange: destination.exchange,
      address: destination.address,
      port: destination.port,
      ...summary,
    },
    `${destination.lmtp ? 'LMTP' : 'SMTP'} ${destination.exchange} [${destination.address}]:${destination.port}: ${
      result.kind === 'failed' ? result.reply : result.outcomes.map((o) => `${o.recipient} ${o.kind}`).join(', ')
    }`,
  );
}

export interface LmtpTransportOptions {
  client: SmtpClient;
  /** MTA_LMTP */
  target: HostPort;
}

/** Delivers to the MDA over LMTP (RFC 2033): one reply per recipient after DATA. */
export function lmtpTransport(options: LmtpTransportOptions): DeliveryTransport {
  const destination: Destination = { address: options.target.host, port: options.target.port, exchange: 'lmtp', lmtp: true };
  return {
    async deliver(job) {
      const result = await options.client.deliver(destination, job.mailFrom, job.recipients, job.message, job.logger);
      logAttempt(job, destination, result);
      const undecided = new Map<string, RecipientOutcome>(job.recipients.map((r) => [r, { recipient: r, kind: 'temporary', reply: '', enhanced: '4.0.0' }]));
      const decided: RecipientOutcome[] = [];
      applyResult(result, undecided, decided, `${destination.address}:${destination.port}`);
      return [...decided, ...undecided.values()];
    },
    close: async () => undefined,
  };
}

export interface MxTransportOptions {
  client: SmtpClient;
  resolver: MxResolver;
  /** This MTA's names, for the planner's loop rule. */
  ownHostnames: readonly string[];
  /** Port of remote MX hosts (MTA_OUTBOUND_PORT). */
  outboundPort: number;
  /** Tests point exchanges at their fake peers' ports. */
  portFor?: (address: string, exchange: string) => number;
  random?: () => number;
  /** The MTA's fault plan: its `outbound` rules act on each next hop. */
  chaos?: ChaosEngine;
}

/** One attempt as the fault plan leaves it: where to, and which copy of the message. */
interface PlannedAttempt {
  destination: Destination;
  message: Buffer;
}

/**
 * The `outbound` fault of the plan for one address: a refusal or a timeout is the result
 * of the attempt (no connection is made); a TLS fault goes into the destination; an
 * altered body into the copy sent (the queue file is not touched).
 */
function outboundFault(options: MxTransportOptions, job: DeliveryJob, destination: Destination): HostResult | PlannedAttempt {
  const fault = options.chaos?.outbound({ domain: job.domain, exchange: destination.exchange, address: destination.address });
  if (fault === undefined) return { destination, message: job.message };
  const where = `${destination.exchange} [${destination.address}]:${destination.port}`;
  const fired = { event: 'chaos.fired', rule: fault.ruleId, stage: 'outbound', fault: fault.fault, exchange: destination.exchange, address: destination.address };
  if (fault.fault === 'alter-body') {
    const altered = alterOneBodyByte(job.message);
    job.logger.warn(
      altered ? { ...fired, offset: altered.offset, before: altered.before, after: altered.after } : { ...fired, altered: false },
      altered
        ? `chaos rule ${fault.ruleId}: body byte ${altered.offset} changed from "${altered.before}" to "${altered.after}" in the copy sent to ${where}`
        : `chaos rule ${fault.ruleId}: no letter or digit in the body to change for ${where}`,
    );
    return { destination, message: altered?.message ?? job.message };
  }
  job.logger.warn(fired, `chaos rule ${fault.ruleId}: ${fault.fault} at ${where}`);
  switch (fault.fault) {
    case 'refuse':
      return { kind: 'failed', permanent: false, reply: `451 4.4.1 ${where}: ECONNREFUSED: connection refused (chaos rule ${fault.ruleId})`, enhanced: '4.4.1' };
    case 'timeout':
      return { kind: 'failed', permanent: false, reply: `451 4.4.1 ${where}: ETIMEDOUT: connection timeout (chaos rule ${fault.ruleId})`, enhanced: '4.4.1' };
    case 'tls-wrong-name':
      return { destination: { ...destination, tlsFault: 'wrong-name' }, message: job.message };
    case 'no-starttls':
      return { destination: { ...destination, tlsFault: 'none' }, message: job.message };
  }
}

/** Delivers to the MX hosts of the job's domain. */
export function mxTransport(options: MxTransportOptions): DeliveryTransport {
  const portFor = options.portFor ?? (() => options.outboundPort);
  return {
    async deliver(job) {
      const plan = await planRoute(job.domain, options.resolver, {
        ownHostnames: options.ownHostnames,
        logger: job.logger,
        ...(options.random === undefined ? {} : { random: options.random }),
      });
      if (!plan.ok) {
        const reply = routeFailureReply(plan);
        job.logger.info({ event: 'mx.failed', domain: job.domain, permanent: plan.permanent, reply }, `no route to ${job.domain}: ${reply}`);
        return job.recipients.map((recipient) => ({
          recipient,
          kind: plan.permanent ? 'permanent' : 'temporary',
          reply,
          enhanced: plan.enhanced,
        }));
      }
      const undecided = new Map<string, RecipientOutcome>(
        job.recipients.map((recipient) => [
          recipient,
          { recipient, kind: 'temporary', reply: `451 4.4.1 no exchange of ${job.domain} answered`, enhanced: '4.4.1' },
        ]),
      );
      const decided: RecipientOutcome[] = [];
      for (const exchange of plan.exchanges) {
        for (const address of exchange.addresses) {
          if (undecided.size === 0) break;
          const planned: Destination = { address, port: portFor(address, exchange.exchange), exchange: exchange.exchange, lmtp: false };
          const faulted = outboundFault(options, job, planned);
          const destination = 'kind' in faulted ? planned : faulted.destination;
          const result = 'kind' in faulted ? faulted : await options.client.deliver(destination, job.mailFrom, [...undecided.keys()], faulted.message, job.logger);
          if (destination.tlsFault === 'none' && result.kind === 'transaction') {
            job.logger.warn({ event: 'delivery.tls-missing', exchange: destination.exchange, address, reason: 'STARTTLS not offered (chaos rule)' }, `no STARTTLS at ${destination.exchange}: sent in plain text`);
          }
          logAttempt(job, destination, result);
          applyResult(result, undecided, decided, `${exchange.exchange} [${address}]`);
        }
      }
      return [...decided, ...undecided.values()];
    },
    close: async () => undefined,
  };
}
