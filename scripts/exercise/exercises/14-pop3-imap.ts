/**
 * Exercise 14, POP3 versus IMAP: carol's "exercise 14 keep" sits in a folder of her own
 * (made and filled over IMAP, kept on the server), "exercise 14 pop" is gone from her
 * INBOX (downloaded and deleted over POP3), and the answer is how many messages a POP3
 * client of carol sees now: her INBOX, counted by the check.
 */
import { answered, expect, type Check } from '../exercise.ts';
import { folders, messages } from '../probes.ts';
import { numberIn, subjectIs } from '../tasks.ts';

const STANDARD = new Set(['INBOX', 'Sent', 'Drafts', 'Junk', 'Trash']);
const USER = 'carol@beta.test';

export const check: Check = async ({ lab, answer }) => {
  const own = (await folders(lab, USER)).filter((name) => !STANDARD.has(name));
  let keptIn: string | undefined;
  for (const folder of own) {
    if ((await messages(lab, USER, folder)).some((m) => subjectIs(m, 14, 'keep'))) keptIn = folder;
  }
  const inbox = await messages(lab, USER);
  const stillThere = inbox.some((m) => subjectIs(m, 14, 'pop'));
  const given = numberIn(answer);
  return [
    expect(keptIn !== undefined, `"exercise 14 keep" is in carol's own folder ${keptIn ?? ''}, on the server`, own.length > 0 ? `carol has the folder(s) ${own.join(', ')}, but none holds "exercise 14 keep"` : 'carol has no folder of her own yet (IMAP CREATE), with "exercise 14 keep" moved into it'),
    expect(!stillThere && keptIn !== undefined, '"exercise 14 pop" was downloaded and deleted over POP3: it is gone from the server', stillThere ? '"exercise 14 pop" is still in carol\'s INBOX: download it over POP3 and delete it (DELE, then QUIT)' : 'send "exercise 14 pop" to carol too, then download and delete it over POP3'),
    answered(answer, () => given === inbox.length, 'how many messages a POP3 client of carol sees now'),
  ];
};
