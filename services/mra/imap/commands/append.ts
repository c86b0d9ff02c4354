/** APPEND (RFC 3501 §6.3.11) with APPENDUID (RFC 4315 UIDPLUS). */
import { AUTHENTICATED, ArgumentError, defineCommand, no, ok } from '../command.ts';
import { flags as flagList, mailbox } from '../args.ts';
import { parseDateTime } from '../dates.ts';

export const append = defineCommand({
  states: AUTHENTICATED,
  allowsExpunge: true,
  parse(args) {
    if (args.length < 2 || args.length > 4) throw new ArgumentError('APPEND takes a mailbox, optional flags, an optional date and a literal');
    const name = mailbox(args[0]);
    const message = args[args.length - 1];
    if (message?.type !== 'string') throw new ArgumentError('message must be a literal');
    let flags: string[] = [];
    let date: Date | undefined;
    for (const arg of args.slice(1, -1)) {
      if (arg.type === 'list') {
        flags = flagList(arg);
      } else if (arg.type === 'string' && !arg.literal) {
        date = parseDateTime(arg.value.toString('latin1'));
        if (!date) throw new ArgumentError('invalid date-time (expected "dd-Mon-yyyy hh:mm:ss +zzzz")');
      } else {
        throw new ArgumentError('expected a flag list or a date-time');
      }
    }
    return { name, flags, date, content: Buffer.from(message.value) };
  },
  async handle(session, { name, flags, date, content }) {
    // A zero-length literal is valid syntax but no message (Dovecot: NO, not BAD).
    if (content.length === 0) return no('Cannot save a zero-length message');
    // RFC 3501 §9: a literal is CHAR8s, which exclude NUL; without BINARY (RFC 3516) such a
    // message cannot be sent back intact, so it is refused (as Cyrus does) rather than stored.
    if (content.includes(0)) return no('Message contains NUL octets (not allowed without BINARY)');
    const result = await session.mail().append(name, content, flags, date);
    return ok('APPEND completed', `APPENDUID ${result.uidValidity} ${result.uid}`);
  },
});
