/**
 * An MTA's admin API (services/mta/admin): the queue and the fault plan, over the host
 * port the lab publishes for it. Errors name the MTA, the request and its answer.
 */

export interface QueuedRecipient {
  recipient: string;
  status: string;
  attempts: number;
  lastReply?: string;
}

export interface QueuedMessage {
  queueId: string;
  from: string;
  messageId?: string;
  /** Being delivered right now. */
  inFlight?: boolean;
  recipients: QueuedRecipient[];
  [field: string]: unknown;
}

/** One rule of a fault plan (README "Break things on purpose", docs/chaos/example-plan.json). */
export interface ChaosRule {
  id?: string;
  stage: string;
  [field: string]: unknown;
}

/** A lab plan: rules per MTA, the format of `npm run chaos -- load` and MTA_CHAOS_PLAN. */
export interface ChaosPlan {
  description?: string;
  mtas: Partial<Record<string, { rules: ChaosRule[] }>>;
}

export class AdminClient {
  readonly mta: string;
  readonly #base: () => string;
  readonly #token: string | undefined;

  constructor(mta: string, base: () => string, token?: string) {
    this.mta = mta;
    this.#base = base;
    this.#token = token || undefined;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    const url = `${this.#base()}${path}`;
    let response: Response;
    try {
      response = await fetch(url, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    } catch (error) {
      throw new Error(`${this.mta} admin ${method} ${path}: ${(error as Error).message} (is ${this.mta} stopped?)`, { cause: error });
    }
    const text = await response.text();
    if (!response.ok) throw new Error(`${this.mta} admin ${method} ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  }

  async queue(): Promise<QueuedMessage[]> {
    return (await this.request<{ messages: QueuedMessage[] }>('GET', '/queue')).messages;
  }

  /** How many messages the MTA is delivering right now (GET /healthz), deleted entries' attempts included. */
  async inFlight(): Promise<number> {
    return (await this.request<{ inFlight: number }>('GET', '/healthz')).inFlight;
  }

  async flush(): Promise<void> {
    await this.request('POST', '/queue/flush', {});
  }

  /** Deletes every queued message; the count. */
  async emptyQueue(): Promise<number> {
    const queued = await this.queue();
    await Promise.all(
      queued.map((message) =>
        this.request('DELETE', `/queue/${message.queueId}`).catch((error: Error) => {
          // Delivered or deleted between the list and the delete: gone either way.
          if (!/: 404 /u.test(error.message)) throw error;
        }),
      ),
    );
    return queued.length;
  }
}

/** The fault plan of one MTA (`lab.chaos('beta-mx1')`). */
export class ChaosControl {
  readonly #admin: AdminClient;

  constructor(admin: AdminClient) {
    this.#admin = admin;
  }

  /** Every rule, with how often it matched and fired. */
  async rules(): Promise<ChaosRule[]> {
    return (await this.#admin.request<{ rules: ChaosRule[] }>('GET', '/chaos/rules')).rules;
  }

  /** Adds one rule; the MTA's answer names a bad field. */
  add(rule: ChaosRule): Promise<ChaosRule> {
    return this.#admin.request<ChaosRule>('POST', '/chaos/rules', rule);
  }

  /** Replaces the MTA's plan, all or nothing. */
  async replace(rules: ChaosRule[]): Promise<ChaosRule[]> {
    return (await this.#admin.request<{ rules: ChaosRule[] }>('PUT', '/chaos/rules', { rules })).rules;
  }

  async remove(id: string): Promise<void> {
    await this.#admin.request('DELETE', `/chaos/rules/${encodeURIComponent(id)}`);
  }

  async clear(): Promise<void> {
    await this.#admin.request('DELETE', '/chaos/rules');
  }
}
