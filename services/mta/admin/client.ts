/**
 * The admin endpoint seen from a client (`npm run queue`, tests): one function per
 * request, and the text form of a queue listing.
 */
import type { QueueEntryView } from './view.ts';

/** Default of MTA_ADMIN_URL: the admin listener of the MTA on this host. */
export const DEFAULT_ADMIN_URL = 'http://127.0.0.1:8026';
/** An admin request that takes longer than this has failed. */
export const ADMIN_REQUEST_TIMEOUT_MS = 10_000;

export class AdminError extends Error {
  override readonly name = 'AdminError';
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** An admin endpoint: its URL, and its token when it asks for one (MXLAB_ADMIN_TOKEN). */
export type AdminTarget = string | { url: string; token?: string | undefined };

async function request<T>(target: AdminTarget, method: string, path: string, json?: unknown): Promise<T> {
  const { url: baseUrl, token } = typeof target === 'string' ? { url: target, token: undefined } : target;
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  if (json !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(new URL(path, baseUrl), {
      method,
      headers,
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
      signal: AbortSignal.timeout(ADMIN_REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    throw new AdminError(0, `cannot reach the MTA admin endpoint at ${baseUrl}: ${(error as Error).message}`);
  }
  const body = (await res.json().catch(() => ({}))) as T & { error?: string };
  if (!res.ok) throw new AdminError(res.status, body.error ?? `HTTP ${res.status}`);
  return body;
}

/** A fault plan rule as the MTA shows it (shared/chaos/engine.ts RuleView). */
export interface ChaosRuleView {
  id: string;
  stage: string;
  matched: number;
  fired: number;
  expiresAt: string;
  [field: string]: unknown;
}

export async function listRules(target: AdminTarget): Promise<ChaosRuleView[]> {
  return (await request<{ rules: ChaosRuleView[] }>(target, 'GET', '/chaos/rules')).rules;
}

export async function addRule(target: AdminTarget, rule: unknown): Promise<ChaosRuleView> {
  return request<ChaosRuleView>(target, 'POST', '/chaos/rules', rule);
}

/** Replaces the MTA's whole plan (`{"rules": [...]}`); nothing changes when it is refused. */
export async function replacePlan(target: AdminTarget, plan: unknown): Promise<ChaosRuleView[]> {
  return (await request<{ rules: ChaosRuleView[] }>(target, 'PUT', '/chaos/rules', plan)).rules;
}

/** Removes one rule, or every rule; resolves to how many went. */
export async function clearRules(target: AdminTarget, id?: string): Promise<number> {
  if (id !== undefined) {
    await request(target, 'DELETE', `/chaos/rules/${encodeURIComponent(id)}`);
    return 1;
  }
  return (await request<{ deleted: number }>(target, 'DELETE', '/chaos/rules')).deleted;
}

export interface AdvanceResult {
  advancedSeconds: number;
  offsetSeconds: number;
  now: string;
  /** Queue ids bounced because the new time is past their deadline. */
  expired: string[];
}

/** Moves the MTA's queue clock forward (lab only). */
export async function advanceQueue(target: AdminTarget, seconds: number): Promise<AdvanceResult> {
  return request<AdvanceResult>(target, 'POST', '/queue/advance', { seconds });
}

export async function retryMessage(target: AdminTarget, queueId: string): Promise<void> {
  await request(target, 'POST', `/queue/${encodeURIComponent(queueId)}/retry`);
}

export async function listQueue(baseUrl: AdminTarget): Promise<QueueEntryView[]> {
  return (await request<{ messages: QueueEntryView[] }>(baseUrl, 'GET', '/queue')).messages;
}

export async function flushQueue(baseUrl: AdminTarget, queueId?: string): Promise<number> {
  const path = queueId === undefined ? '/queue/flush' : `/queue/${encodeURIComponent(queueId)}/flush`;
  return (await request<{ flushed: number }>(baseUrl, 'POST', path)).flushed;
}

export async function deleteMessage(baseUrl: AdminTarget, queueId: string): Promise<void> {
  await request(baseUrl, 'DELETE', `/queue/${encodeURIComponent(queueId)}`);
}

/** Postfix mailq style: one block per message, one line per recipient. */
export function formatQueue(messages: QueueEntryView[]): string {
  if (messages.length === 0) return 'Mail queue is empty\n';
  const lines: string[] = [];
  for (const message of messages) {
    lines.push(
      `${message.queueId}${message.inFlight ? '*' : ' '} ${String(message.size).padStart(8)} ${message.queuedAt ?? ''}  <${message.from}>  ${message.messageId ?? ''}`.trimEnd(),
    );
    for (const rcpt of message.recipients) {
      const next = rcpt.nextAttemptAt === undefined ? '' : ` next ${rcpt.nextAttemptAt}`;
      lines.push(`    ${rcpt.recipient}  ${rcpt.status}  attempts ${rcpt.attempts}${next}`);
      if (rcpt.lastReply) lines.push(`      (${rcpt.lastReply})`);
    }
    lines.push('');
  }
  lines.push(`-- ${messages.length} message${messages.length === 1 ? '' : 's'} in queue (* = being delivered)`);
  return `${lines.join('\n')}\n`;
}
