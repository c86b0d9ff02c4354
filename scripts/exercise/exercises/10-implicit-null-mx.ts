/**
 * Exercise 10, implicit MX and null MX: frank holds alice's "exercise 10", handed by
 * alpha-mta straight to the host at direct.gamma.test's own address (the lab DNS has no
 * MX for it; gamma-mx3 is that host); alpha-mta queued nothing for null.test, and in the
 * no-Docker lab its log shows the refused null.test recipient. The answer gives that
 * address (from the lab DNS) and the enhanced code of the refusal (the MTA's reply table).
 */
import { REPLIES } from '../../../services/mta/smtp/replies.ts';
import { AGENT_ADDRESSES, type AgentName } from '../../../shared/lab.ts';
import { answerWords, answered, expect, type Check, type Finding } from '../exercise.ts';
import { dnsQuery, logLines, messages, queue } from '../probes.ts';
import { subjectIs } from '../tasks.ts';

const IMPLICIT = 'direct.gamma.test';

/** The lab agent at `address` (as the target's mode numbers them), if any. */
function agentAt(address: string, addressOf: (agent: AgentName) => string): AgentName | undefined {
  return (Object.keys(AGENT_ADDRESSES) as AgentName[]).find((agent) => addressOf(agent) === address);
}

export const check: Check = async ({ lab, answer }) => {
  const mx = await dnsQuery(lab, IMPLICIT, 'MX');
  const addresses = (await dnsQuery(lab, IMPLICIT, 'A')).map((record) => String(record.data));
  const hosts = addresses.map((address) => agentAt(address, lab.address)).filter((agent) => agent !== undefined);
  const arrived = (await messages(lab, `frank@${IMPLICIT}`)).filter((m) => {
    const [first, second] = m.journey.hops;
    return subjectIs(m, 10) && m.from === 'alice@alpha.test' && first?.agent === 'alpha-mta' && hosts.includes(second?.agent as AgentName);
  });
  const queuedForNull = (await queue(lab, 'alpha-mta')).flatMap((entry) => entry.recipients).filter((state) => state.recipient.endsWith('@null.test'));
  const { code, enhanced } = REPLIES.nullMx;
  const findings: Finding[] = [
    expect(mx.length === 0 && addresses.length > 0, `${IMPLICIT} has no MX record, only an address (${addresses.join(', ')})`, `the lab DNS gives ${IMPLICIT} ${mx.length} MX record(s) and ${addresses.length} address(es): is the cluster profile running?`),
    expect(arrived.length > 0, `frank has alice's "exercise 10": alpha-mta handed it straight to ${hosts.join(', ')}, the host at ${IMPLICIT}'s address (implicit MX)`, `frank@${IMPLICIT} has no "exercise 10" from alice yet`),
    expect(queuedForNull.length === 0, 'alpha-mta holds nothing for null.test: a null MX is never queued', `alpha-mta has ${queuedForNull.length} null.test recipient(s) queued`),
  ];
  const lines = await logLines(lab, 'alpha-mta');
  if (lines !== undefined) {
    const refused = lines.filter((line) => line.msg === 'refused' && typeof line.reply === 'string' && line.reply.startsWith(`${code} ${enhanced}`));
    findings.push(expect(refused.length > 0, `alpha-mta refused a null.test recipient at RCPT (${refused.length} time(s))`, 'alpha-mta\'s log shows no recipient refused for a null MX yet: send one to null.test'));
  }
  const words = answerWords(answer);
  findings.push(answered(answer, () => addresses.some((address) => words.includes(address)) && words.includes(enhanced), `the address frank's message went to, and the enhanced status code that refused null.test`));
  return findings;
};
