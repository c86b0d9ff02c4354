/**
 * Exercise 12, why AUTH comes only after STARTTLS: the answer is the SASL PLAIN response
 * the trainee's IMAP client sent in the clear on the unencrypted port, read from a packet
 * capture. The check decodes it and logs in with what it holds: right when it is carol's
 * identity and a password the MRA accepts.
 */
import { answered, type Check } from '../exercise.ts';
import { canLogIn } from '../probes.ts';

const USER = 'carol@beta.test';

/** RFC 4616: [authzid] NUL authcid NUL passwd. */
function decodePlain(answer: string): { user: string; password: string } | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/u.test(answer)) return undefined;
  const parts = Buffer.from(answer, 'base64').toString('utf8').split('\u0000');
  if (parts.length !== 3) return undefined;
  return { user: parts[1] ?? '', password: parts[2] ?? '' };
}

export const check: Check = async ({ lab, answer }) => {
  const plain = answer === undefined ? undefined : decodePlain(answer.split(/\s+/u).pop() ?? '');
  const works = plain !== undefined && plain.user.toLowerCase() === USER && (await canLogIn(lab, USER, plain.password));
  return [
    answered(answer, () => plain !== undefined, 'the base64 string the client sent after AUTHENTICATE PLAIN, copied from the capture'),
    answered(answer, () => works, `that string holds ${USER}'s login and a password the server accepts`),
  ];
};
