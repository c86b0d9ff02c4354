/** LIST and LSUB (RFC 3501 §6.3.8–9) with CHILDREN (RFC 3348) and SPECIAL-USE (RFC 6154) attributes. */
import { AUTHENTICATED, defineCommand, ok } from '../command.ts';
import { astring, count } from '../args.ts';
import { astr, untagged, type Response } from '../encode.ts';
import { HIERARCHY_DELIMITER, matchesPattern, patternToRegExp } from '../../store/mailbox-names.ts';
import type { Token } from '../parser.ts';
import type { MailboxInfo } from '../../store/types.ts';

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
      const boxes = await session.mail().list();
      const line = (name: string, attributes: string[]) => untagged(verb, attributes, { quoted: HIERARCHY_DELIMITER }, astr(name));
      const attributesOf = (box: MailboxInfo) => {
        const attributes: string[] = [];
        if (box.noSelect) attributes.push('\\Noselect');
        attributes.push(box.hasChildren ? '\\HasChildren' : '\\HasNoChildren');
        if (box.specialUse) attributes.push(box.specialUse);
        return attributes;
      };
      if (verb === 'LIST') {
        for (const box of boxes) {
          if (!matchesPattern(box.name, regexp)) continue;
          if (specialUseOnly && !box.specialUse) continue;
          responses.push(line(box.name, attributesOf(box)));
        }
      } else {
        // LSUB (RFC 3501 §6.3.9): every subscribed name, existing or not (a missing one is
        // \Noselect); a parent that only `%` reaches, through a subscribed child, is \Noselect.
        const byName = new Map(boxes.map((box) => [box.name, box]));
        const subscribed = new Set(await session.mail().subscribed());
        const shown = new Map<string, string[]>();
        for (const name of subscribed) {
          const box = byName.get(name);
          if (matchesPattern(name, regexp)) {
            if (!specialUseOnly || box?.specialUse) shown.set(name, box ? attributesOf(box) : ['\\Noselect']);
            continue;
          }
          const parts = name.split(HIERARCHY_DELIMITER);
          for (let i = parts.length - 1; i >= 1; i -= 1) {
            const parent = parts.slice(0, i).join(HIERARCHY_DELIMITER);
            if (!subscribed.has(parent) && !specialUseOnly && matchesPattern(parent, regexp)) shown.set(parent, ['\\Noselect']);
          }
        }
        const names = [...shown.keys()].sort((a, b) => (a === 'INBOX' ? -1 : b === 'INBOX' ? 1 : a < b ? -1 : a > b ? 1 : 0));
        for (const name of names) responses.push(line(name, shown.get(name) ?? []));
      }
      await session.send(...responses);
      return ok(`${verb} completed`);
    },
  });
}

export const listMailboxes = listCommand('LIST');
export const lsub = listCommand('LSUB');
