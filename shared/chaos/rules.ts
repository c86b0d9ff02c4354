/**
 * The shape of a fault plan (issue 16): rules for the SMTP stages this MTA answers, for
 * its outbound deliveries, and for the DNS answers it routes by. One zod schema per kind,
 * checked by the admin endpoint, the plan loader, `npm run chaos` and the e2e fixture
 * alike, so a bad plan is refused with the field named, before anything changes.
 */
import { z } from 'zod';

/** Stages of the SMTP dialogue a rule can answer at; `data` is the DATA command, `after-data` the final dot. */
export const SMTP_STAGES = ['connect', 'helo', 'starttls', 'auth', 'mail', 'rcpt', 'data', 'after-data'] as const;
export type SmtpStage = (typeof SMTP_STAGES)[number];
export const CHAOS_STAGES = [...SMTP_STAGES, 'outbound', 'dns'] as const;
export type ChaosStage = (typeof CHAOS_STAGES)[number];

/**
 * What a next hop does to this MTA's delivery (`stage: "outbound"`); `alter-body` is this
 * MTA's own fault: the copy it sends has one body byte changed (chaos/body-fault.ts).
 */
export const OUTBOUND_FAULTS = ['refuse', 'timeout', 'tls-wrong-name', 'no-starttls', 'alter-body'] as const;
export type OutboundFault = (typeof OUTBOUND_FAULTS)[number];
/** What the DNS answers this MTA (`stage: "dns"`). */
export const DNS_FAULTS = ['servfail', 'timeout', 'nxdomain', 'empty', 'replace'] as const;
export type DnsFault = (typeof DNS_FAULTS)[number];
/** TXT: SPF, DKIM and DMARC lookups (the MX checks, the caller's SPF rule); it can fail, not be replaced. */
export const DNS_TYPES = ['MX', 'A', 'AAAA', 'TXT'] as const;
export type DnsType = (typeof DNS_TYPES)[number];

/** A rule lasts this long unless it says otherwise. */
export const DEFAULT_RULE_LIFETIME_S = 3600;
/** No rule lasts longer (issue 19: a rule with an `until` years away outlives the lesson). */
export const MAX_RULE_LIFETIME_S = 24 * 3600;
/** Longest delay a rule may add to one reply (RFC 5321 §4.5.3.2: clients wait at least 5 min). */
export const MAX_DELAY_MS = 10 * 60_000;
/** Rules per MTA: a plan is a lesson, not a database. */
export const MAX_RULES = 200;

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/u;
const idField = z.string().regex(ID, 'letters, digits, dots, dashes and underscores, at most 64');
/** An exact value (case-insensitive) or a glob where `*` stands for any characters. */
const patternField = z.string().min(1).max(254).regex(/^[^\s\r\n]+$/u, 'no spaces');
const countField = z.number().int().min(0).max(1_000_000);

const replySchema = z
  .strictObject({
    code: z.number().int().min(400).max(599),
    enhanced: z.string().regex(/^[45]\.\d{1,3}\.\d{1,3}$/u, 'an RFC 3463 code such as 4.3.0').optional(),
    text: z.string().max(200).regex(/^[^\r\n]*$/u, 'one line').optional(),
  })
  .refine((reply) => reply.enhanced === undefined || reply.enhanced[0] === String(reply.code)[0], {
    message: 'the enhanced code class must match the reply code',
    path: ['enhanced'],
  });

/** When a matching attempt fires: every one, the first `times`, the ones after `after`, by chance, or by rate. */
const triggerFields = {
  id: idField.optional(),
  description: z.string().max(200).optional(),
  times: countField.min(1).optional(),
  after: countField.optional(),
  probability: z.number().gt(0).max(1).optional(),
  /** Lifetime from now, in seconds (default DEFAULT_RULE_LIFETIME_S). */
  durationSeconds: z.number().int().min(1).max(MAX_RULE_LIFETIME_S).optional(),
  /** Or an end date (ISO 8601), at most MAX_RULE_LIFETIME_S away. */
  until: z.iso.datetime({ offset: true }).optional(),
};

export const smtpRuleSchema = z.strictObject({
  ...triggerFields,
  stage: z.enum(SMTP_STAGES),
  match: z.strictObject({ client: patternField.optional(), sender: patternField.optional(), rcpt: patternField.optional() }).optional(),
  /** Fires when more than `max` matching attempts from one client arrive within `windowSeconds`. */
  rate: z.strictObject({ max: countField, windowSeconds: z.number().int().min(1).max(3600) }).optional(),
  reply: replySchema.optional(),
  delayMs: z.number().int().min(1).max(MAX_DELAY_MS).optional(),
  /** Close the connection without a reply; at `data`, `mid-data` closes it after part of the message. */
  drop: z.union([z.literal(true), z.literal('mid-data')]).optional(),
  /** Answer 250 and throw the message away. Never implied: only this field turns it on. */
  blackhole: z.literal(true).optional(),
});

export const outboundRuleSchema = z.strictObject({
  ...triggerFields,
  stage: z.literal('outbound'),
  match: z.strictObject({ domain: patternField.optional(), exchange: patternField.optional(), address: patternField.optional() }).optional(),
  fault: z.enum(OUTBOUND_FAULTS),
});

const mxRecord = z.strictObject({ exchange: z.string().min(1).max(253), priority: z.number().int().min(0).max(65535) });
const ipRecord = z.union([z.ipv4(), z.ipv6()]);

export const dnsRuleSchema = z.strictObject({
  ...triggerFields,
  stage: z.literal('dns'),
  match: z.strictObject({ name: patternField, type: z.enum(DNS_TYPES).optional() }),
  fault: z.enum(DNS_FAULTS),
  /** For `replace`: MX records, or addresses for A/AAAA. */
  answer: z.array(z.union([mxRecord, ipRecord])).min(1).max(20).optional(),
});

export type SmtpRuleInput = z.infer<typeof smtpRuleSchema>;
export type OutboundRuleInput = z.infer<typeof outboundRuleSchema>;
export type DnsRuleInput = z.infer<typeof dnsRuleSchema>;
export type ChaosRuleInput = SmtpRuleInput | OutboundRuleInput | DnsRuleInput;

/** A checked rule with its id and end time fixed. */
export type ChaosRule = ChaosRuleInput & { id: string; expiresAt: number };

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

type Issue = { path: PropertyKey[]; message: string };

function describeIssues(issues: readonly Issue[], prefix: string): string {
  return issues
    .map((issue) => {
      const path = [prefix, ...issue.path.map(String)].filter((part) => part !== '').join('.');
      return `${path || '(plan)'}: ${issue.message}`;
    })
    .join('; ');
}

/** The checks one field cannot make alone. */
function crossCheck(rule: ChaosRuleInput): Issue[] {
  const issues: Issue[] = [];
  const add = (path: string[], message: string) => issues.push({ path, message });
  if (rule.stage === 'outbound') return issues;
  if (rule.stage === 'dns') {
    if (rule.fault === 'replace') {
      if (rule.match.type === undefined) add(['match', 'type'], 'a replaced answer needs the record type');
      if (rule.match.type === 'TXT') add(['match', 'type'], 'a TXT answer cannot be replaced (servfail, timeout, nxdomain or empty)');
      if (rule.answer === undefined) add(['answer'], 'a replaced answer needs the records');
      for (const [index, record] of (rule.answer ?? []).entries()) {
        const mx = typeof record === 'object';
        if (rule.match.type === 'MX' && !mx) add(['answer', String(index)], 'an MX answer is {"exchange","priority"}');
        if (rule.match.type !== 'MX' && rule.match.type !== undefined && mx) add(['answer', String(index)], `an ${rule.match.type} answer is an address`);
        if (rule.match.type === 'A' && typeof record === 'string' && record.includes(':')) add(['answer', String(index)], 'an A answer is an IPv4 address');
        if (rule.match.type === 'AAAA' && typeof record === 'string' && !record.includes(':')) add(['answer', String(index)], 'an AAAA answer is an IPv6 address');
      }
    } else if (rule.answer !== undefined) {
      add(['answer'], 'only a "replace" fault takes an answer');
    }
    return issues;
  }
  const actions = [rule.reply, rule.drop, rule.blackhole].filter((action) => action !== undefined).length;
  if (actions > 1) add(['reply'], 'give one of reply, drop and blackhole');
  if (actions === 0 && rule.delayMs === undefined) add(['reply'], 'a rule needs a reply, a delayMs, drop or blackhole');
  if (rule.drop === 'mid-data' && rule.stage !== 'data') add(['drop'], '"mid-data" is for stage "data"; use true elsewhere');
  if (rule.drop === true && rule.stage === 'after-data') add(['drop'], 'the message is in by then; drop at stage "data" ("mid-data") instead')
  if (rule.blackhole !== undefined && rule.stage !== 'after-data') add(['blackhole'], 'a blackhole is for stage "after-data" (the message must have arrived)');
  const early = ['connect', 'helo', 'starttls', 'auth'].includes(rule.stage);
  if (rule.match?.sender !== undefined && early) add(['match', 'sender'], `no sender is known at stage "${rule.stage}"`);
  if (rule.match?.rcpt !== undefined && (early || rule.stage === 'mail')) add(['match', 'rcpt'], `no recipient is known at stage "${rule.stage}"`);
  return issues;
}

/**
 * Checks one rule; `prefix` names it in errors (`rules.2`). Fills in the id (`<stage>-<n>`
 * when absent, by `nextId`) and the end time, refused beyond MAX_RULE_LIFETIME_S.
 */
export function checkRule(input: unknown, options: { now: number; nextId: (stage: ChaosStage) => string; prefix?: string }): Checked<ChaosRule> {
  const prefix = options.prefix ?? '';
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { ok: false, error: `${prefix || '(rule)'}: expected a JSON object` };
  const stage = (input as { stage?: unknown }).stage;
  if (!(CHAOS_STAGES as readonly unknown[]).includes(stage)) {
    return { ok: false, error: `${[prefix, 'stage'].filter(Boolean).join('.')}: expected one of ${CHAOS_STAGES.join(', ')}` };
  }
  const schema = stage === 'outbound' ? outboundRuleSchema : stage === 'dns' ? dnsRuleSchema : smtpRuleSchema;
  const parsed = schema.safeParse(input);
  if (!parsed.success) return { ok: false, error: describeIssues(parsed.error.issues, prefix) };
  const rule = parsed.data as ChaosRuleInput;
  const issues = crossCheck(rule);
  let expiresAt = options.now + (rule.durationSeconds ?? DEFAULT_RULE_LIFETIME_S) * 1000;
  if (rule.until !== undefined) {
    if (rule.durationSeconds !== undefined) issues.push({ path: ['until'], message: 'give until or durationSeconds, not both' });
    expiresAt = Date.parse(rule.until);
    if (expiresAt <= options.now) issues.push({ path: ['until'], message: 'is in the past' });
    if (expiresAt > options.now + MAX_RULE_LIFETIME_S * 1000) issues.push({ path: ['until'], message: `is more than ${MAX_RULE_LIFETIME_S / 3600} h away` });
  }
  if (issues.length > 0) return { ok: false, error: describeIssues(issues, prefix) };
  return { ok: true, value: { ...rule, id: rule.id ?? options.nextId(rule.stage), expiresAt } };
}

/** A plan for one MTA: `{"rules": [...]}`. */
export interface ChaosPlan {
  description?: string;
  rules: unknown[];
}

/** A plan for the lab: `{"mtas": {"beta-mx1": {"rules": [...]}, ...}}`. */
export interface LabChaosPlan {
  description?: string;
  mtas: Record<string, ChaosPlan>;
}

const planShape = z.strictObject({ description: z.string().max(500).optional(), rules: z.array(z.unknown()).max(MAX_RULES) });
const labPlanShape = z.strictObject({
  description: z.string().max(500).optional(),
  mtas: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/u, 'an MTA name such as beta-mx1'), planShape),
});

/** Checks every rule of a one-MTA plan: all or nothing, ids unique. */
export function checkPlan(input: unknown, options: { now: number; nextId: (stage: ChaosStage) => string; prefix?: string }): Checked<ChaosRule[]> {
  const prefix = options.prefix ?? '';
  const shape = planShape.safeParse(input);
  if (!shape.success) return { ok: false, error: describeIssues(shape.error.issues, prefix) };
  const rules: ChaosRule[] = [];
  const errors: string[] = [];
  const seen = new Set<string>();
  for (const [index, raw] of shape.data.rules.entries()) {
    const checked = checkRule(raw, { ...options, prefix: [prefix, 'rules', String(index)].filter(Boolean).join('.') });
    if (!checked.ok) {
      errors.push(checked.error);
      continue;
    }
    if (seen.has(checked.value.id)) errors.push(`${[prefix, 'rules', String(index), 'id'].filter(Boolean).join('.')}: ${checked.value.id} is given twice`);
    seen.add(checked.value.id);
    rules.push(checked.value);
  }
  return errors.length > 0 ? { ok: false, error: errors.join('; ') } : { ok: true, value: rules };
}

/** A plan file is either kind; a lab plan is split by MTA name. */
export function isLabPlan(input: unknown): boolean {
  return typeof input === 'object' && input !== null && 'mtas' in input;
}

/** The one-MTA plans of a lab plan, shape checked (the rules are checked by each MTA). */
export function splitLabPlan(input: unknown): Checked<LabChaosPlan> {
  const shape = labPlanShape.safeParse(input);
  if (!shape.success) return { ok: false, error: describeIssues(shape.error.issues, '') };
  return { ok: true, value: shape.data as LabChaosPlan };
}

/** Case-insensitive exact match, or a glob with `*`. */
export function matchesPattern(pattern: string, value: string): boolean {
  const text = value.toLowerCase();
  const wanted = pattern.toLowerCase();
  if (!wanted.includes('*')) return text === wanted;
  const regex = new RegExp(`^${wanted.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/gu, '\\$&')).join('.*')}$`, 'u');
  return regex.test(text);
}
