/**
 * The TRANSACTION-state commands (RFC 1939 §5 and §7: STAT, LIST, RETR, DELE, NOOP, RSET,
 * TOP, UIDL) and QUIT, which enters the UPDATE state (§6) where deletions take effect.
 */
import type { CommandSpec, Pop3Context } from './context.ts';
import type { Maildrop } from './maildrop.ts';
import { MessageGoneError } from './maildrop.ts';
import { parseNumber } from './parser.ts';
import { err, ok, topOf, type Reply } from './replies.ts';

function open(context: Pop3Context): Maildrop {
  if (!context.maildrop) throw new Error('transaction state without a maildrop');
  return context.maildrop;
}

/** RFC 1939 §5: a message-number names a message that exists and is not marked deleted. */
function messageIndex(context: Pop3Context, arg: string | undefined): number | Reply {
  const number = parseNumber(arg);
  const maildrop = open(context);
  if (number === undefined || number < 1 || number > maildrop.count) return err('no such message');
  if (context.deleted.has(number - 1)) return err(`message ${number} already deleted`);
  return number - 1;
}

function live(context: Pop3Context): number[] {
  const indices: number[] = [];
  const { count } = open(context);
  for (let index = 0; index < count; index += 1) if (!context.deleted.has(index)) indices.push(index);
  return indices;
}

function listing(context: Pop3Context, args: readonly string[], line: (index: number) => string, what: string): Reply {
  if (args.length > 1) return err(`usage: ${what} [msg]`);
  if (args.length === 1) {
    const index = messageIndex(context, args[0]);
    return typeof index === 'number' ? ok(line(index)) : index;
  }
  const indices = live(context);
  return ok(`${indices.length} messages`, { lines: indices.map(line) });
}

async function readMessage(context: Pop3Context, index: number): Promise<Buffer | Reply> {
  try {
    return await open(context).read(index);
  } catch (error) {
    if (error instanceof MessageGoneError) return err(`message ${index + 1} was removed by another client`);
    context.log.error({ err: error, message: index + 1 }, 'cannot read message');
    return err('cannot read the message now, try again later', 'SYS/TEMP');
  }
}

async function quit(context: Pop3Context): Promise<Reply> {
  if (context.state === 'authorization') return ok(`${context.services.hostname} POP3 server signing off`, { then: 'close' });
  context.state = 'update';
  const maildrop = open(context);
  const deleted = [...context.deleted].sort((a, b) => a - b);
  const seen = [...context.retrieved].filter((index) => !context.deleted.has(index)).sort((a, b) => a - b);
  // One batch of renames for the session, as Dovecot commits its flag changes at QUIT: a
  // rename per RETR made every RETR wait for the last one and the folder rescan after it.
  await maildrop.markSeen(seen).catch((error: unknown) => context.log.warn({ err: error, messages: seen.length }, 'cannot mark messages seen'));
  const failed = await maildrop.remove(deleted);
  await maildrop.close();
  context.maildrop = undefined;
  const left = maildrop.count - deleted.length + failed;
  context.log.info({ user: context.account?.address, deleted: deleted.length - failed, failed }, 'update');
  if (failed > 0) return err(`${failed} deleted messages could not be removed`, 'SYS/TEMP', 'close');
  return ok(`${context.services.hostname} POP3 server signing off (${left} messages left)`, { then: 'close' });
}

export const transactionCommands: [string, CommandSpec][] = [
  [
    'STAT',
    {
      states: ['transaction'],
      handler(context) {
        const maildrop = open(context);
        if (context.deleted.size === 0) return ok(`${maildrop.count} ${maildrop.octets}`);
        const indices = live(context);
        return ok(`${indices.length} ${indices.reduce((sum, index) => sum + maildrop.size(index), 0)}`);
      },
    },
  ],
  [
    'LIST',
    {
      states: ['transaction'],
      handler: (context, args) => listing(context, args, (index) => `${index + 1} ${open(context).size(index)}`, 'LIST'),
    },
  ],
  [
    'UIDL',
    {
      states: ['transaction'],
      handler: (context, args) => listing(context, args, (index) => `${index + 1} ${open(context).uidl(index)}`, 'UIDL'),
    },
  ],
  [
    'RETR',
    {
      states: ['transaction'],
      async handler(context, args) {
        if (args.length !== 1) return err('usage: RETR msg');
        const index = messageIndex(context, args[0]);
        if (typeof index !== 'number') return index;
        const message = await readMessage(context, index);
        if (!Buffer.isBuffer(message)) return message;
        context.retrieved.add(index);
        return ok(`${message.length} octets`, { body: message });
      },
    },
  ],
  [
    'TOP',
    {
      states: ['transaction'],
      async handler(context, args) {
        if (args.length !== 2) return err('usage: TOP msg lines');
        const index = messageIndex(context, args[0]);
        if (typeof index !== 'number') return index;
        const lines = parseNumber(args[1]);
        if (lines === undefined) return err('lines must be a non-negative number');
        const message = await readMessage(context, index);
        if (!Buffer.isBuffer(message)) return message;
        return ok('top of message follows', { body: topOf(message, lines) });
      },
    },
  ],
  [
    'DELE',
    {
      states: ['transaction'],
      handler(context, args) {
        if (args.length !== 1) return err('usage: DELE msg');
        const index = messageIndex(context, args[0]);
        if (typeof index !== 'number') return index;
        context.deleted.add(index);
        return ok(`message ${index + 1} deleted`);
      },
    },
  ],
  [
    'RSET',
    {
      states: ['transaction'],
      handler(context) {
        context.deleted.clear();
        const maildrop = open(context);
        return ok(`maildrop has ${maildrop.count} messages (${maildrop.octets} octets)`);
      },
    },
  ],
  ['NOOP', { states: ['transaction'], handler: () => ok('') }],
  ['QUIT', { states: ['authorization', 'transaction'], handler: quit }],
];
