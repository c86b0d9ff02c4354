/** FETCH and UID FETCH (RFC 3501 §6.4.5, §6.4.8) with CHANGEDSINCE and MODSEQ (RFC 7162 §3.1.4). */
import { SELECTED, ArgumentError, defineCommand, ok, type Session } from '../command.ts';
import { atom, count, list, number, sequenceSet } from '../args.ts';
import { formatDateTime } from '../dates.ts';
import { preEncoded, untagged, type ImapValue, type Response } from '../encode.ts';
import { applyPartial, parseFetchItems, sectionData, sectionLabel, type FetchItem } from '../fetch-items.ts';
import { resolveSet } from '../message-set.ts';
import { bodyStructure, envelope, parseMime, type MimePart } from '../mime.ts';
import type { Token } from '../parser.ts';
import type { SelectedMailbox } from '../selected.ts';
import type { SequenceRange } from '../sequence.ts';
import { MailStoreError, type MailboxHandle } from '../../store/types.ts';

interface FetchArgs {
  ranges: SequenceRange[];
  items: FetchItem[];
  changedSince: number | undefined;
}

function parseFetch(args: readonly Token[]): FetchArgs {
  count(args, 2, 3);
  let changedSince: number | undefined;
  if (args[2] !== undefined) {
    const modifiers = list(args[2], 'FETCH modifiers');
    for (let i = 0; i < modifiers.length; i += 2) {
      if (atom(modifiers[i], 'modifier').toUpperCase() !== 'CHANGEDSINCE') throw new ArgumentError('unknown FETCH modifier');
      changedSince = number(modifiers[i + 1], 'CHANGEDSINCE');
    }
  }
  return { ranges: sequenceSet(args[0]), items: parseFetchItems(args[1]), changedSince };
}

/** Responses without message content are written this many at a time. */
const FETCH_BATCH = 256;
const NEEDS_CONTENT = new Set(['BODYSTRUCTURE', 'BODY', 'RFC822', 'RFC822.TEXT']);
const NEEDS_HEADER = new Set(['ENVELOPE', 'RFC822.HEADER']);
/** ENVELOPEs kept per open mailbox (messages never change, so entries never go stale). */
const ENVELOPE_CACHE_SIZE = 20_000;
const envelopes = new WeakMap<object, Map<number, ImapValue>>();

function envelopeCache(handle: object): Map<number, ImapValue> {
  let cache = envelopes.get(handle);
  if (!cache || cache.size >= ENVELOPE_CACHE_SIZE) {
    cache = new Map();
    envelopes.set(handle, cache);
  }
  return cache;
}

/** Envelope fills running per mailbox: the UIDs each is reading. */
const filling = new WeakMap<object, Map<number, Promise<void>>>();

/**
 * Puts the ENVELOPE of every UID not cached yet into the cache, one reader per message:
 * several sessions that FETCH 1:* ENVELOPE at once (8 clients opening a cold mailbox)
 * would otherwise each read and parse every header in step. A UID another FETCH is
 * filling is waited for, not read again; one expunged meanwhile is left out.
 */
async function fillEnvelopes(handle: MailboxHandle, cache: Map<number, ImapValue>, uids: readonly number[]): Promise<void> {
  let running = filling.get(handle);
  if (!running) filling.set(handle, (running = new Map()));
  const waits = new Set<Promise<void>>();
  const mine: number[] = [];
  for (const uid of uids) {
    if (cache.has(uid)) continue;
    const other = running.get(uid);
    if (other) waits.add(other);
    else mine.push(uid);
  }
  let release = (): void => undefined;
  const done = new Promise<void>((resolve) => (release = resolve));
  for (const uid of mine) running.set(uid, done);
  try {
    for (const uid of mine) {
      try {
        cache.set(uid, preEncoded(envelope(parseMime(await handle.readHeader(uid)))));
      } catch (error) {
        if (!(error instanceof MailStoreError && error.code === 'NONEXISTENT')) throw error;
      }
    }
  } finally {
    for (const uid of mine) running.delete(uid);
    release();
  }
  await Promise.all(waits);
}

/** Whether an item is served from the header block alone. */
function headerOnly(item: FetchItem): boolean {
  if (item.kind === 'simple') return NEEDS_HEADER.has(item.name);
  return item.path.length === 0 && (item.spec === 'HEADER' || item.spec === 'HEADER.FIELDS' || item.spec === 'HEADER.FIELDS.NOT');
}

function marksSeen(item: FetchItem): boolean {
  return item.kind === 'section' ? !item.peek : item.name === 'RFC822' || item.name === 'RFC822.TEXT';
}

/**
 * The answer for a message another session expunged, still in this client's view: what
 * the index still knows (UID, FLAGS with this session's own STOREs, MODSEQ, INTERNALDATE,
 * a known RFC822.SIZE, a cached ENVELOPE) and NIL for its content (body sections and
 * RFC822*, nstrings), as Dovecot answers from its index (RFC 2180 §4.1.3). `whole` is
 * false when something was NIL or unknown (EXPUNGEISSUED); no values when an item cannot
 * be NIL (BODYSTRUCTURE, an unknown size or envelope) and the message is left out.
 */
function expungedAnswer(selected: SelectedMailbox, cache: Map<number, ImapValue>, wanted: readonly FetchItem[], uid: number, changedSince: number | undefined): { values?: ImapValue[]; whole: boolean } {
  const last = selected.lastKnown(uid);
  if (!last) return { whole: false };
  if (changedSince !== undefined && last.modseq <= changedSince) return { whole: true };
  const values: ImapValue[] = [];
  let whole = true;
  for (const item of wanted) {
    if (item.kind === 'section') {
      values.push(sectionLabel(item), null);
      whole = false;
      continue;
    }
    switch (item.name) {
      case 'UID': values.push('UID', uid); break;
      case 'FLAGS': values.push('FLAGS', selected.flagsOf(last)); break;
      case 'MODSEQ': values.push('MODSEQ', [last.modseq]); break;
      case 'INTERNALDATE': values.push('INTERNALDATE', { quoted: formatDateTime(new Date(last.internalDateMs)) }); break;
      case 'RFC822.SIZE':
        if (last.size === undefined) return { whole: false };
        values.push('RFC822.SIZE', last.size);
        break;
      case 'ENVELOPE': {
        const value = cache.get(uid);
        if (value === undefined) return { whole: false };
        values.push('ENVELOPE', value);
        break;
      }
      case 'RFC822': case 'RFC822.HEADER': case 'RFC822.TEXT':
        values.push(item.name, null);
        whole = false;
        break;
      case 'BODYSTRUCTURE': case 'BODY':
        return { whole: false };
    }
  }
  return { values, whole };
}

async function fetch(session: Session, { ranges, items, changedSince }: FetchArgs, byUid: boolean) {
  const selected = session.selected;
  if (!selected) throw new Error('no mailbox selected');
  if (changedSince !== undefined) {
    session.enabled.add('CONDSTORE');
    selected.condstore = true;
  }
  const wanted = [...items];
  const has = (name: string) => wanted.some((item) => item.kind === 'simple' && item.name === name);
  if (byUid && !has('UID')) wanted.unshift({ kind: 'simple', name: 'UID' });
  if (selected.condstore && (changedSince !== undefined || has('MODSEQ')) && !has('MODSEQ')) wanted.push({ kind: 'simple', name: 'MODSEQ' });
  const setSeen = !selected.readOnly && wanted.some(marksSeen);
  const needsContent = wanted.some((item) => (item.kind === 'section' && !headerOnly(item)) || (item.kind === 'simple' && NEEDS_CONTENT.has(item.name)));
  const needsHeader = !needsContent && wanted.some(headerOnly);
  const cache = envelopeCache(selected.handle);
  const handle = selected.handle;
  const batch: Response[] = [];
  let gone = false;
  const targets = resolveSet(selected, ranges, byUid);
  if (has('ENVELOPE') && targets.length <= ENVELOPE_CACHE_SIZE - cache.size) await fillEnvelopes(handle, cache, targets.map((target) => target.uid));
  for (const { seq, uid } of targets) {
    let record = selected.record(uid);
    if (!record) {
      const answer = expungedAnswer(selected, cache, wanted, uid, changedSince);
      if (answer.values) batch.push(untagged(seq, 'FETCH', answer.values));
      if (!answer.whole) gone = true;
      continue;
    }
    if (changedSince !== undefined && record.modseq <= changedSince) continue;
    let flagsChanged = false;
    if (setSeen && !record.flags.includes('\\Seen')) {
      const { changed } = await handle.setFlags([uid], 'add', ['\\Seen']);
      record = selected.record(uid) ?? record;
      for (const change of changed) selected.markReported(change.uid, change.modseq);
      flagsChanged = changed.length > 0;
    }
    const onlyCachedEnvelope = needsHeader && cache.has(uid) && wanted.every((item) => !headerOnly(item) || (item.kind === 'simple' && item.name === 'ENVELOPE'));
    let content: Buffer | undefined;
    let size: number | undefined;
    try {
      content = needsContent ? await handle.read(uid) : needsHeader && !onlyCachedEnvelope ? await handle.readHeader(uid) : undefined;
      if (has('RFC822.SIZE')) size = needsContent && content ? content.length : await handle.size(uid);
    } catch (error) {
      // Expunged by another session after this one looked: skipped like the others.
      if (!(error instanceof MailStoreError && error.code === 'NONEXISTENT')) throw error;
      gone = true;
      continue;
    }
    let mime: MimePart | undefined;
    const parsed = () => (mime ??= parseMime(content ?? Buffer.alloc(0)));
    const values: ImapValue[] = [];
    for (const item of wanted) {
      if (item.kind === 'section') {
        const data = sectionData(parsed(), content ?? Buffer.alloc(0), item);
        values.push(sectionLabel(item), data === undefined ? { quoted: '' } : { literal: applyPartial(data, item.partial) });
        continue;
      }
      switch (item.name) {
        case 'UID': values.push('UID', uid); break;
        case 'FLAGS': values.push('FLAGS', selected.flagsOf(record)); break;
        case 'INTERNALDATE': values.push('INTERNALDATE', { quoted: formatDateTime(new Date(record.internalDateMs)) }); break;
        case 'RFC822.SIZE': values.push('RFC822.SIZE', size ?? 0); break;
        case 'ENVELOPE': {
          let value = cache.get(uid);
          if (value === undefined) {
            // Kept in its wire form: a FETCH 1:* of a warm mailbox then only joins strings.
            value = preEncoded(envelope(parsed()));
            cache.set(uid, value);
          }
          values.push('ENVELOPE', value);
          break;
        }
        case 'BODYSTRUCTURE': values.push('BODYSTRUCTURE', bodyStructure(parsed(), true)); break;
        case 'BODY': values.push('BODY', bodyStructure(parsed(), false)); break;
        case 'MODSEQ': values.push('MODSEQ', [record.modseq]); break;
        case 'RFC822': values.push('RFC822', { literal: content ?? Buffer.alloc(0) }); break;
        case 'RFC822.HEADER': values.push('RFC822.HEADER', { literal: parsed().header }); break;
        case 'RFC822.TEXT': values.push('RFC822.TEXT', { literal: parsed().body }); break;
      }
    }
    if (flagsChanged && !has('FLAGS')) values.push('FLAGS', selected.flagsOf(record));
    if (has('FLAGS') || flagsChanged) batch.push(...selected.keywordUpdates(record.flags));
    batch.push(untagged(seq, 'FETCH', values));
    if (needsContent || batch.length >= FETCH_BATCH) await session.send(...batch.splice(0));
  }
  await session.send(...batch);
  // A message another session expunged is still in this client's view (its EXPUNGE cannot
  // be sent during FETCH) but its content is gone: what could not be answered makes the
  // command succeed with RFC 5530's EXPUNGEISSUED (RFC 2180 §4.1.3), as Dovecot answers.
  if (gone) return ok('Some messages were already expunged', 'EXPUNGEISSUED');
  return ok(`${byUid ? 'UID ' : ''}FETCH completed`);
}

export const fetchCommand = defineCommand({ states: SELECTED, allowsExpunge: false, parse: parseFetch, handle: (s, a) => fetch(s, a, false) });
export const uidFetch = defineCommand({ states: SELECTED, allowsExpunge: true, parse: parseFetch, handle: (s, a) => fetch(s, a, true) });
