/** SEARCH and UID SEARCH (RFC 3501 §6.4.4) with MODSEQ (RFC 7162 §3.1.5). */
import { SELECTED, defineCommand, ok, type Session } from '../command.ts';
import { untagged, type ImapValue } from '../encode.ts';
import { evaluate, needsContent, parseSearch, type SearchQuery } from '../search.ts';

async function search(session: Session, query: SearchQuery, byUid: boolean) {
  const selected = session.selected;
  if (!selected) throw new Error('no mailbox selected');
  if (query.usesModseq) {
    session.enabled.add('CONDSTORE');
    selected.condstore = true;
  }
  const matches: number[] = [];
  let highest = 0;
  const uids = selected.allUids();
  const star = { seq: uids.length, uid: uids[uids.length - 1] ?? 0 };
  const withContent = needsContent(query.root);
  for (let i = 0; i < uids.length; i += 1) {
    const uid = uids[i] ?? 0;
    const record = selected.record(uid);
    if (!record) continue;
    const content = withContent ? await selected.handle.read(uid) : undefined;
    const size = withContent && content ? content.length : undefined;
    const hit = await evaluate(query.root, {
      seq: i + 1, record, star, recent: selected.isRecent(uid), content,
      size: async () => size ?? (await selected.handle.size(uid)),
    });
    if (!hit) continue;
    matches.push(byUid ? uid : i + 1);
    highest = Math.max(highest, record.modseq);
  }
  const values: ImapValue[] = ['SEARCH', ...matches];
  if (query.usesModseq && matches.length > 0) values.push(['MODSEQ', highest]);
  await session.send(untagged(...values));
  return ok(`${byUid ? 'UID ' : ''}SEARCH completed`);
}

export const searchCommand = defineCommand({ states: SELECTED, allowsExpunge: false, parse: parseSearch, handle: (s, q) => search(s, q, false) });
export const uidSearch = defineCommand({ states: SELECTED, allowsExpunge: true, parse: parseSearch, handle: (s, q) => search(s, q, true) });
