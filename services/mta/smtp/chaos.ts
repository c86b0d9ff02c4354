/**
 * Chaos for the lab and for tests (issue 4 item 7): make this MTA answer a chosen code at
 * a chosen stage of the SMTP dialogue, or delay its replies, until a given time. Off by
 * default; the admin HTTP endpoint sets and clears rules, the listeners consult them.
 */
import { z } from 'zod';

export const CHAOS_STAGES = ['connect', 'helo', 'mail', 'rcpt', 'data'] as const;
export type ChaosStage = (typeof CHAOS_STAGES)[number];

/** A rule lasts this long when neither `until` nor `durationMs` is given. */
export const DEFAULT_CHAOS_DURATION_MS = 5 * 60_000;
/** Longest delay a rule may add to one reply (RFC 5321 §4.5.3.2 clients wait ≥ 5 min). */
export const MAX_CHAOS_DELAY_MS = 10 * 60_000;

export interface ChaosRule {
  stage: ChaosStage;
  /** Reply code to answer instead of the normal reply (4xx or 5xx); absent = delay only. */
  code?: number;
  /** RFC 3463 code, e.g. `4.3.2`; derived from `code` when absent. */
  enhanced?: string;
  message?: string;
  /** Wait this long before replying (the normal reply, or `code`). */
  delayMs?: number;
  /** Epoch ms after which the rule no longer applies. */
  until: number;
}

/** What the admin endpoint accepts: `until` (epoch ms or ISO date) or `durationMs`. */
export const chaosRuleInputSchema = z
  .object({
    stage: z.enum(CHAOS_STAGES),
    code: z.number().int().min(400).max(599).optional(),
    enhanced: z.string().regex(/^[45]\.\d{1,3}\.\d{1,3}$/u).optional(),
    message: z.string().max(200).regex(/^[^\r\n]*$/u).optional(),
    delayMs: z.number().int().min(0).max(MAX_CHAOS_DELAY_MS).optional(),
    until: z.union([z.number().int(), z.iso.datetime()]).optional(),
    durationMs: z.number().int().positive().optional(),
  })
  .refine((rule) => rule.code !== undefined || (rule.delayMs ?? 0) > 0, 'a rule needs a code or a delayMs')
  .refine((rule) => rule.enhanced === undefined || rule.code === undefined || rule.enhanced[0] === String(rule.code)[0], 'enhanced code class must match the reply code');
export type ChaosRuleInput = z.input<typeof chaosRuleInputSchema>;

/** The action a listener takes for a stage: wait, then reply with a code or carry on. */
export interface ChaosAction {
  delayMs: number;
  reply?: { code: number; enhanced: string; text: string };
}

export class ChaosControl {
  private readonly rules = new Map<ChaosStage, ChaosRule>();
  private readonly now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.now = options.now ?? Date.now;
  }

  /** Validates and sets the rule of its stage (one rule per stage); throws a ZodError when invalid. */
  set(input: unknown): ChaosRule {
    const parsed = chaosRuleInputSchema.parse(input);
    const until =
      typeof parsed.until === 'number'
        ? parsed.until
        : parsed.until !== undefined
          ? Date.parse(parsed.until)
          : this.now() + (parsed.durationMs ?? DEFAULT_CHAOS_DURATION_MS);
    const rule: ChaosRule = { stage: parsed.stage, until };
    if (parsed.code !== undefined) rule.code = parsed.code;
    if (parsed.enhanced !== undefined) rule.enhanced = parsed.enhanced;
    if (parsed.message !== undefined) rule.message = parsed.message;
    if (parsed.delayMs !== undefined) rule.delayMs = parsed.delayMs;
    this.rules.set(rule.stage, rule);
    return rule;
  }

  /** Clears one stage, or every rule. */
  clear(stage?: ChaosStage): void {
    if (stage) this.rules.delete(stage);
    else this.rules.clear();
  }

  /** The rules still in force. */
  list(): ChaosRule[] {
    this.dropExpired();
    return [...this.rules.values()];
  }

  /** What to do at `stage` now; undefined when no rule applies (the normal case). */
  action(stage: ChaosStage): ChaosAction | undefined {
    this.dropExpired();
    const rule = this.rules.get(stage);
    if (!rule) return undefined;
    const action: ChaosAction = { delayMs: rule.delayMs ?? 0 };
    if (rule.code !== undefined) {
      const enhanced = rule.enhanced ?? `${String(rule.code)[0]}.0.0`;
      action.reply = { code: rule.code, enhanced, text: rule.message ?? `Chaos: ${stage} refused by the lab's chaos rule` };
    }
    return action;
  }

  private dropExpired(): void {
    const now = this.now();
    for (const [stage, rule] of this.rules) if (rule.until <= now) this.rules.delete(stage);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
