/** LIST and LSUB (RFC 3501 §6.3.8–9) with CHILDREN (RFC 3348) and SPECIAL-USE (RFC 6154) attributes. */
import { AUTHENTICATED, defineCommand, ok } from '../command.ts';
import { astring, count } from '../args.ts';
import { astr, untagged, type Response } from '../encode.ts';
import { HIERARCHY_DELIMITER, matchesPattern, patternToRegExp } from '../../store/mailbox-names.ts';
import type { Token } from '../parser.ts';

interface ListArgs {
  reference: string;
  pattern: string;
  specialUseOnly: boolean;
}

function parseList(args: readonly Token[]): ListArgs {
  let rest = [...args];
  let specialUseOnly = false;
  // LIST-EXTENDED selection options (RFC 5258) as sent by some clients: only SPECIAL-USE changes the result.
  if (rest[0]?.type === 'list') {
    specialUseOnly = rest[0].items.some((item) => item.type === 'atom' && item.value.toUpperCase() === 'SPECIAL-USE');
    rest = rest.slice(1);
  }
  if (rest.length === 4 && rest[2]?.type === 'atom' && rest[2].value.toUpperCase() === 'RETURN') rest = rest.slice(0, 2);
  count(rest, 2);
  return { reference: astring(rest[0], 'reference'), pattern: astring(rest[1], 'mailbox pattern'), specialUseOnly };
}

function listCommand(verb: 'LIST' | 'LSUB') {
  return defineCommand({
    states: AUTHENTICATED,
    allowsExpunge: true,
    parse: parseList,
    async handle(session, { reference, pattern, specialUseOnly }) {
      if (pattern === '') {
        await session.send(untagged(verb, ['\\Noselect'], { quoted: HIERARCHY_DELIMITER }, { quoted: '' }));
        return ok(`${verb} completed`);
      }
      const regexp = patternToRegExp(reference, pattern);
      const responses: Response[] = [];
      for (const box of await session.mail().list()) {
        if (!matchesPattern(box.name, regexp)) continue;
        if (verb === 'LSUB' && !box.subscribed) continue;
        if (specialUseOnly && !box.specialUse) continue;
        const attributes: string[] = [];
        if (box.noSelect) attributes.push('\\Noselect');
        attributes.push(box.hasChildren ? '\\HasChildren' : '\\HasNoChildren');
        if (box.specialUse) attributes.push(box.specialUse);
        responses.push(untagged(verb, attributes, { quoted: HIERARCHY_DELIMITER }, astr(box.name)));
      }
      await session.send(...responses);
      return ok(`${verb} completed`);
    },
  });
}

export const listMailboxes = listCommand('LIST');
export const lsub = listCommand('LSUB');
