/**
 * The fault plan of one MTA in force: rules added, listed (each with how often it
 * matched and fired), removed; and the question each hop asks — the SMTP listeners at
 * each stage, the delivery before each next hop, the resolver before each lookup — "what
 * does the plan do to this attempt?". Rules are evaluated in the order they were added;
 * the first that fires decides. Expired rules drop out on their own.
 */
import type { Logger } from '../log.ts';
import {
  checkPlan,
  checkRule,
  matchesPattern,
  MAX_RULES,
  type ChaosRule,
  type ChaosStage,
  type Checked,
  type DnsFault,
  type DnsRuleInput,
  type DnsType,
  type OutboundFault,
  type SmtpStage,
} from './rules.ts';

/** What the SMTP side knows when it asks. */
export interface SmtpAttempt {
  client: string;
  sender?: string;
  /** The recipient of this RCPT, or every recipient of the transaction (data, after-data). */
  rcpts?: readonly string[];
}

export interface SmtpAction {
  ruleId: string;
  delayMs: number;
  reply?: { code: number; enhanced: string; text: string };
  drop?: true | 'mid-data';
  blackhole?: true;
}

export interface OutboundAttempt {
  domain: string;
  exchange: string;
  address: string;
}

export interface DnsAction {
  ruleId: string;
  fault: DnsFault;
  answer?: DnsRuleInput['answer'];
}

/** A rule as the admin endpoint shows it. */
export type RuleView = Omit<ChaosRule, 'expiresAt'> & { expiresAt: string; matched: number; fired: number; lastFiredAt?: string };

interface Entry {
  rule: ChaosRule;
  matched: number;
  fired: number;
  lastFiredAt?: number;
  /** Matching attempts per client within the rule's rate window (epoch ms). */
  recent: Map<string, number[]>;
}

export type ChaosResult<T> = Checked<T> & { status?: number };

export interface ChaosEngineOptions {
  now?: () => number;
  random?: () => number;
  logger?: Logger;
  /** The stages this agent has (the caller: `dns` only); a rule for another is refused, naming `stage`. Default: all. */
  stages?: readonly ChaosStage[];
  /** Who holds the plan, for that refusal (`the caller`). */
  holder?: string;
}

function defaultText(stage: ChaosStage, code: number): string {
  return code >= 500 ? `Chaos: ${stage} refused by the lab's fault plan` : `Chaos: ${stage} deferred by the lab's fault plan, try again later`;
}

export class ChaosEngine {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly logger: Logger | undefined;
  private readonly stages: readonly ChaosStage[] | undefined;
  private readonly holder: string;
  private sequence = 0;

  constructor(options: ChaosEngineOptions = {}) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.logger = options.logger;
    this.stages = options.stages;
    this.holder = options.holder ?? 'this agent';
  }

  /** The refusal of a rule whose stage this agent does not have, `prefix` naming it. */
  private foreignStage(rule: ChaosRule, prefix: string): string | undefined {
    if (this.stages === undefined || this.stages.includes(rule.stage)) return undefined;
    return `${[prefix, 'stage'].filter(Boolean).join('.')}: ${this.holder} takes ${this.stages.join(', ')} rules only, not ${rule.stage}`;
  }

  private nextId = (stage: ChaosStage): string => {
    let id: string;
    do id = `${stage}-${(this.sequence += 1)}`;
    while (this.entries.has(id));
    return id;
  };

  /** Adds one rule (409 when its id is taken). */
  add(input: unknown): ChaosResult<RuleView> {
    this.dropExpired();
    const checked = checkRule(input, { now: this.now(), nextId: this.nextId });
    if (!checked.ok) return { ...checked, status: 400 };
    const foreign = this.foreignStage(checked.value, '');
    if (foreign !== undefined) return { ok: false, error: foreign, status: 400 };
    if (this.entries.has(checked.value.id)) return { ok: false, error: `a rule ${checked.value.id} exists; DELETE /chaos/rules/${checked.value.id} first`, status: 409 };
    if (this.entries.size >= MAX_RULES) return { ok: false, error: `at most ${MAX_RULES} rules`, status: 409 };
    this.entries.set(checked.value.id, { rule: checked.value, matched: 0, fired: 0, recent: new Map() });
    this.logger?.warn({ event: 'chaos.rule-added', rule: checked.value }, `chaos rule ${checked.value.id} added`);
    return { ok: true, value: this.view(this.entries.get(checked.value.id) as Entry) };
  }

  /** Replaces every rule by a plan's (`{"rules": [...]}`); nothing changes when one rule is bad. */
  replace(plan: unknown): ChaosResult<RuleView[]> {
    const checked = checkPlan(plan, { now: this.now(), nextId: this.nextId });
    if (!checked.ok) return { ...checked, status: 400 };
    const foreign = checked.value.flatMap((rule, index) => this.foreignStage(rule, `rules.${index}`) ?? []);
    if (foreign.length > 0) return { ok: false, error: foreign.join('; '), status: 400 };
    this.entries.clear();
    for (const rule of checked.value) this.entries.set(rule.id, { rule, matched: 0, fired: 0, recent: new Map() });
    this.logger?.warn({ event: 'chaos.plan-loaded', rules: checked.value.map((rule) => rule.id) }, `chaos plan loaded (${checked.value.length} rules)`);
    return { ok: true, value: this.list() };
  }

  remove(id: string): boolean {
    const removed = this.entries.delete(id);
    if (removed) this.logger?.info({ event: 'chaos.rule-removed', id }, `chaos rule ${id} removed`);
    return removed;
  }

  clear(): number {
    const count = this.entries.size;
    this.entries.clear();
    this.logger?.info({ event: 'chaos.cleared', count }, 'chaos rules cleared');
    return count;
  }

  list(stages?: readonly ChaosStage[]): RuleView[] {
    this.dropExpired();
    return [...this.entries.values()].filter((entry) => stages === undefined || stages.includes(entry.rule.stage)).map((entry) => this.view(entry));
  }

  get(id: string): RuleView | undefined {
    this.dropExpired();
    const entry = this.entries.get(id);
    return entry === undefined ? undefined : this.view(entry);
  }

  /** What the plan does at an SMTP stage; undefined = answer normally. */
  smtp(stage: SmtpStage, attempt: SmtpAttempt): SmtpAction | undefined {
    const entry = this.decide(stage, (rule) => {
      if (rule.stage === 'outbound' || rule.stage === 'dns') return false;
      const match = rule.match;
      if (match?.client !== undefined && !matchesPattern(match.client, attempt.client)) return false;
      if (match?.sender !== undefined && !matchesPattern(match.sender, attempt.sender ?? '')) return false;
      if (match?.rcpt !== undefined && !(attempt.rcpts ?? []).some((rcpt) => matchesPattern(match.rcpt as string, rcpt))) return false;
      return true;
    }, attempt.client);
    if (entry === undefined) return undefined;
    const rule = entry.rule;
    if (rule.stage === 'outbound' || rule.stage === 'dns') return undefined;
    const action: SmtpAction = { ruleId: rule.id, delayMs: rule.delayMs ?? 0 };
    if (rule.reply !== undefined) {
      action.reply = { code: rule.reply.code, enhanced: rule.reply.enhanced ?? `${String(rule.reply.code)[0]}.0.0`, text: rule.reply.text ?? defaultText(stage, rule.reply.code) };
    }
    if (rule.drop !== undefined) action.drop = rule.drop;
    if (rule.blackhole !== undefined) action.blackhole = true;
    return action;
  }

  /** The fault the plan puts on one outbound attempt (one address of one exchange). */
  outbound(attempt: OutboundAttempt): { ruleId: string; fault: OutboundFault } | undefined {
    const entry = this.decide('outbound', (rule) => {
      if (rule.stage !== 'outbound') return false;
      const match = rule.match;
      if (match?.domain !== undefined && !matchesPattern(match.domain, attempt.domain)) return false;
      if (match?.exchange !== undefined && !matchesPattern(match.exchange, attempt.exchange)) return false;
      if (match?.address !== undefined && !matchesPattern(match.address, attempt.address)) return false;
      return true;
    });
    return entry?.rule.stage === 'outbound' ? { ruleId: entry.rule.id, fault: entry.rule.fault } : undefined;
  }

  /** The fault the plan puts on one DNS question. */
  dns(name: string, type: DnsType): DnsAction | undefined {
    const bare = name.replace(/\.$/u, '');
    const entry = this.decide('dns', (rule) => rule.stage === 'dns' && matchesPattern(rule.match.name.replace(/\.$/u, ''), bare) && (rule.match.type === undefined || rule.match.type === type));
    if (entry?.rule.stage !== 'dns') return undefined;
    return { ruleId: entry.rule.id, fault: entry.rule.fault, ...(entry.rule.answer === undefined ? {} : { answer: entry.rule.answer }) };
  }

  /** Counts the attempt against every matching rule of the stage; the first that fires wins. */
  private decide(stage: ChaosStage, matches: (rule: ChaosRule) => boolean, client = ''): Entry | undefined {
    this.dropExpired();
    const at = this.now();
    let winner: Entry | undefined;
    for (const entry of this.entries.values()) {
      const rule = entry.rule;
      if (rule.stage !== stage || !matches(rule)) continue;
      entry.matched += 1;
      if (winner !== undefined || !this.fires(entry, at, client)) continue;
      entry.fired += 1;
      entry.lastFiredAt = at;
      winner = entry;
    }
    return winner;
  }

  private fires(entry: Entry, at: number, client: string): boolean {
    const rule = entry.rule;
    const skip = rule.after ?? 0;
    if (entry.matched <= skip) return false;
    if (rule.times !== undefined && entry.matched > skip + rule.times) return false;
    if ('rate' in rule && rule.rate !== undefined) {
      const since = at - rule.rate.windowSeconds * 1000;
      const recent = (entry.recent.get(client) ?? []).filter((time) => time > since);
      recent.push(at);
      entry.recent.set(client, recent);
      if (recent.length <= rule.rate.max) return false;
    }
    if (rule.probability !== undefined && this.random() >= rule.probability) return false;
    return true;
  }

  private dropExpired(): void {
    const at = this.now();
    for (const [id, entry] of this.entries) {
      if (entry.rule.expiresAt <= at) {
        this.entries.delete(id);
        this.logger?.info({ event: 'chaos.rule-expired', id, fired: entry.fired }, `chaos rule ${id} expired`);
      }
    }
  }

  private view(entry: Entry): RuleView {
    return {
      ...entry.rule,
      expiresAt: new Date(entry.rule.expiresAt).toISOString(),
      matched: entry.matched,
      fired: entry.fired,
      ...(entry.lastFiredAt === undefined ? {} : { lastFiredAt: new Date(entry.lastFiredAt).toISOString() }),
    };
  }
}
