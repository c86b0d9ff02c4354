/**
 * Delivery settings of the MTA: retry schedule, queue lifetime, timeouts, concurrency.
 * A plain object of zod fields so the MTA's schema can spread it
 * (`z.object({ ...deliveryConfigFields, ... })`). Lab defaults are short on purpose:
 * a person watching the lab should see a retry within seconds, not Postfix's minutes.
 */
import { z } from 'zod';
import { durationMsField } from '../../../shared/config.ts';

/** First retry after a temporary failure (Postfix: minimal_backoff_time 300 s). */
export const DEFAULT_RETRY_FIRST_DELAY_MS = 10_000;
/** Each later retry waits this many times longer than the one before. */
export const DEFAULT_RETRY_BACKOFF_FACTOR = 2;
/** Ceiling of the retry delay (Postfix: maximal_backoff_time 4000 s). */
export const DEFAULT_RETRY_MAX_DELAY_MS = 5 * 60_000;
/** Give up and bounce after this long in the queue (RFC 5321 §4.5.4.1 suggests 4–5 days). */
export const DEFAULT_MAX_QUEUE_LIFETIME_MS = 60 * 60_000;
/** Send a delay warning (DSN Action: delayed) after this long; 0 = never. */
export const DEFAULT_DELAY_WARNING_AFTER_MS = 10 * 60_000;
/** TCP connect timeout per address (RFC 5321 §4.5.3.2 gives minutes; the lab wants seconds). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** Greeting and per-command reply timeout (RFC 5321 §4.5.3.2.1–.6, shortened for the lab). */
export const DEFAULT_COMMAND_TIMEOUT_MS = 15_000;
/** Messages delivered at the same time (Postfix: default_destination_concurrency_limit 20). */
export const DEFAULT_DELIVERY_CONCURRENCY = 20;
/** DNS query timeout per try. */
export const DEFAULT_DNS_TIMEOUT_MS = 3_000;

const positiveMs = z.coerce.number().int().positive();

export const deliveryConfigFields = {
  MTA_RETRY_FIRST_DELAY_MS: positiveMs.default(DEFAULT_RETRY_FIRST_DELAY_MS),
  MTA_RETRY_BACKOFF_FACTOR: z.coerce.number().min(1).max(10).default(DEFAULT_RETRY_BACKOFF_FACTOR),
  MTA_RETRY_MAX_DELAY_MS: positiveMs.default(DEFAULT_RETRY_MAX_DELAY_MS),
  MTA_MAX_QUEUE_LIFETIME_MS: positiveMs.default(DEFAULT_MAX_QUEUE_LIFETIME_MS),
  MTA_DELAY_WARNING_AFTER_MS: durationMsField.default(DEFAULT_DELAY_WARNING_AFTER_MS),
  MTA_CONNECT_TIMEOUT_MS: positiveMs.default(DEFAULT_CONNECT_TIMEOUT_MS),
  MTA_COMMAND_TIMEOUT_MS: positiveMs.default(DEFAULT_COMMAND_TIMEOUT_MS),
  MTA_DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(DEFAULT_DELIVERY_CONCURRENCY),
  MTA_DNS_TIMEOUT_MS: positiveMs.default(DEFAULT_DNS_TIMEOUT_MS),
};

export const deliveryConfigSchema = z.object(deliveryConfigFields);
export type DeliveryEnv = z.output<typeof deliveryConfigSchema>;

/** The delivery settings in the shape the runner takes (milliseconds, plain names). */
export interface DeliverySettings {
  retryFirstDelayMs: number;
  retryBackoffFactor: number;
  retryMaxDelayMs: number;
  maxQueueLifetimeMs: number;
  /** 0 = no delay warnings. */
  delayWarningAfterMs: number;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  concurrency: number;
  dnsTimeoutMs: number;
}

export const DEFAULT_DELIVERY_SETTINGS: DeliverySettings = {
  retryFirstDelayMs: DEFAULT_RETRY_FIRST_DELAY_MS,
  retryBackoffFactor: DEFAULT_RETRY_BACKOFF_FACTOR,
  retryMaxDelayMs: DEFAULT_RETRY_MAX_DELAY_MS,
  maxQueueLifetimeMs: DEFAULT_MAX_QUEUE_LIFETIME_MS,
  delayWarningAfterMs: DEFAULT_DELAY_WARNING_AFTER_MS,
  connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
  commandTimeoutMs: DEFAULT_COMMAND_TIMEOUT_MS,
  concurrency: DEFAULT_DELIVERY_CONCURRENCY,
  dnsTimeoutMs: DEFAULT_DNS_TIMEOUT_MS,
};

/** Maps the validated env fields (any object that has them) to DeliverySettings. */
export function deliverySettingsFrom(env: DeliveryEnv): DeliverySettings {
  return {
    retryFirstDelayMs: env.MTA_RETRY_FIRST_DELAY_MS,
    retryBackoffFactor: env.MTA_RETRY_BACKOFF_FACTOR,
    retryMaxDelayMs: env.MTA_RETRY_MAX_DELAY_MS,
    maxQueueLifetimeMs: env.MTA_MAX_QUEUE_LIFETIME_MS,
    delayWarningAfterMs: env.MTA_DELAY_WARNING_AFTER_MS,
    connectTimeoutMs: env.MTA_CONNECT_TIMEOUT_MS,
    commandTimeoutMs: env.MTA_COMMAND_TIMEOUT_MS,
    concurrency: env.MTA_DELIVERY_CONCURRENCY,
    dnsTimeoutMs: env.MTA_DNS_TIMEOUT_MS,
  };
}

/** Delay before attempt number `attempts + 1`, after `attempts` failed ones (≥ 1). */
export function retryDelayMs(settings: DeliverySettings, attempts: number): number {
  const exponent = Math.max(0, attempts - 1);
  const delay = settings.retryFirstDelayMs * settings.retryBackoffFactor ** exponent;
  return Math.min(settings.retryMaxDelayMs, Math.round(delay));
}
