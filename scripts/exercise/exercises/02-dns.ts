/**
 * Exercise 2, asking DNS: the answer names the address of beta.test's backup exchange
 * (its MX of the highest preference value, then that name's A record) and the host of
 * alpha.test's IMAPS service record. Both are read from the lab DNS, never written here.
 */
import { answerWords, answered, type Check } from '../exercise.ts';
import { dnsQuery } from '../probes.ts';

const bare = (name: string) => name.toLowerCase().replace(/\.$/u, '');

export const check: Check = async ({ lab, answer }) => {
  const mx = (await dnsQuery(lab, 'beta.test', 'MX')).map((record) => record.data as { preference: number; exchange: string });
  const backup = [...mx].sort((a, b) => b.preference - a.preference)[0];
  if (backup === undefined) return [{ ok: false, text: 'the lab DNS has no MX records for beta.test: is the lab running?' }];
  const addresses = (await dnsQuery(lab, backup.exchange, 'A')).map((record) => String(record.data));
  const srv = (await dnsQuery(lab, '_imaps._tcp.alpha.test', 'SRV')).map((record) => record.data as { target: string; port: number });
  const words = answerWords(answer).map(bare);
  return [
    answered(answer, () => addresses.some((address) => words.includes(address)), 'the IP address a sender uses when beta.test\'s first-choice exchange does not answer'),
    answered(answer, () => srv.some((record) => words.includes(bare(record.target))), 'the host a mail client of alpha.test connects to for IMAP over TLS'),
  ];
};
