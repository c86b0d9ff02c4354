/**
 * RFC 7505 at submission: a domain that publishes a null MX (`MX 0 .`) accepts no mail,
 * so the submission server refuses a recipient there at RCPT (`556 5.1.10`) instead of
 * queueing a message that can only bounce (§4.1: "SHOULD NOT" queue it). Only a clear
 * answer counts: when DNS fails the recipient is accepted and the delivery runner
 * decides (it bounces a null MX at once too, services/mta/routing/mx-plan.ts).
 */
import type { MxResolver } from './resolver.ts';

/** True when `domain`'s MX answer is exactly one record whose exchange is the root. */
export async function hasNullMx(domain: string, resolver: MxResolver): Promise<boolean> {
  try {
    const records = await resolver.resolveMx(domain);
    return records.length === 1 && records[0]?.exchange.replace(/\.$/u, '') === '';
  } catch {
    return false;
  }
}
