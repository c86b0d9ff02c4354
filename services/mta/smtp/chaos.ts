/**
 * The fault plan seen from the SMTP listeners (issue 16): each stage asks the MTA's
 * ChaosEngine (shared/chaos/engine.ts) what to do with this attempt, then waits,
 * answers the rule's reply, closes the connection, or carries on. The connection class
 * (connection.ts) runs it for connect, HELO/EHLO, STARTTLS, AUTH, MAIL, RCPT and DATA;
 * data.ts for the final dot (`after-data`, where a blackhole may answer 250).
 */
import type { Logger } from '../../../shared/log.ts';
import type { ChaosEngine, SmtpAction, SmtpAttempt } from '../../../shared/chaos/engine.ts';
import type { SmtpStage } from '../../../shared/chaos/rules.ts';

export { ChaosEngine } from '../../../shared/chaos/engine.ts';

/** What a stage does with the plan's decision. */
export interface ChaosHooks {
  /** Answer normally. */
  proceed(): void;
  /** Answer this instead (code, then `enhanced text`). */
  reply(code: number, text: string): void;
  /** Close the connection without a reply (or, for `mid-data`, after part of the message). */
  drop(mode: true | 'mid-data'): void;
}

/** Client addresses as rules name them: `::ffff:127.0.0.1` is 127.0.0.1. */
export function clientAddress(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/u, '');
}

function logAction(logger: Logger, stage: SmtpStage, attempt: SmtpAttempt, action: SmtpAction): void {
  logger.warn(
    {
      event: 'chaos.fired',
      rule: action.ruleId,
      stage,
      client: attempt.client,
      ...(attempt.sender === undefined ? {} : { sender: attempt.sender }),
      ...(attempt.rcpts === undefined ? {} : { rcpts: attempt.rcpts }),
      delayMs: action.delayMs,
      ...(action.reply ? { reply: `${action.reply.code} ${action.reply.enhanced} ${action.reply.text}` } : {}),
      ...(action.drop ? { drop: action.drop } : {}),
      ...(action.blackhole ? { blackhole: true } : {}),
    },
    `chaos rule ${action.ruleId} fired at ${stage}`,
  );
}

/** Asks the plan about one attempt at `stage` and runs its decision through `hooks`. */
export function runChaos(chaos: ChaosEngine, stage: SmtpStage, attempt: SmtpAttempt, logger: Logger, hooks: ChaosHooks): void {
  const action = chaos.smtp(stage, attempt);
  if (action === undefined) {
    hooks.proceed();
    return;
  }
  logAction(logger, stage, attempt, action);
  const act = (): void => {
    if (action.drop !== undefined) hooks.drop(action.drop);
    else if (action.reply !== undefined) hooks.reply(action.reply.code, `${action.reply.enhanced} ${action.reply.text}`);
    else hooks.proceed();
  };
  if (action.delayMs > 0) setTimeout(act, action.delayMs);
  else act();
}

/** The same for a stage inside an async handler (after-data): resolves to the action left to take. */
export async function chaosDecision(chaos: ChaosEngine, stage: SmtpStage, attempt: SmtpAttempt, logger: Logger): Promise<SmtpAction | undefined> {
  const action = chaos.smtp(stage, attempt);
  if (action === undefined) return undefined;
  logAction(logger, stage, attempt, action);
  if (action.delayMs > 0) await sleep(action.delayMs);
  return action;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
