/** The one command table of the IMAP server: verb → { states, argument schema, handler }. */
import type { AnyCommand } from '../command.ts';
import { append } from './append.ts';
import { authenticate, login, starttls } from './auth.ts';
import { fetchCommand, uidFetch } from './fetch.ts';
import { capability, enable, id, logout, noop } from './general.ts';
import { listMailboxes, lsub } from './list.ts';
import { create, del, examine, namespace, rename, select, status, subscribe, unsubscribe } from './mailboxes.ts';
import { searchCommand, uidSearch } from './search.ts';
import { check, close, copyCommand, expunge, idle, move, uidCopy, uidExpunge, uidMove, unselect } from './selected.ts';
import { storeCommand, uidStore } from './store.ts';

export const IMAP_COMMANDS: ReadonlyMap<string, AnyCommand> = new Map<string, AnyCommand>([
  ['CAPABILITY', capability],
  ['NOOP', noop],
  ['LOGOUT', logout],
  ['ID', id],
  ['STARTTLS', starttls],
  ['LOGIN', login],
  ['AUTHENTICATE', authenticate],
  ['ENABLE', enable],
  ['SELECT', select],
  ['EXAMINE', examine],
  ['CREATE', create],
  ['DELETE', del],
  ['RENAME', rename],
  ['SUBSCRIBE', subscribe],
  ['UNSUBSCRIBE', unsubscribe],
  ['LIST', listMailboxes],
  ['LSUB', lsub],
  ['STATUS', status],
  ['NAMESPACE', namespace],
  ['APPEND', append],
  ['IDLE', idle],
  ['CHECK', check],
  ['CLOSE', close],
  ['UNSELECT', unselect],
  ['EXPUNGE', expunge],
  ['SEARCH', searchCommand],
  ['FETCH', fetchCommand],
  ['STORE', storeCommand],
  ['COPY', copyCommand],
  ['MOVE', move],
  ['UID SEARCH', uidSearch],
  ['UID FETCH', uidFetch],
  ['UID STORE', uidStore],
  ['UID COPY', uidCopy],
  ['UID MOVE', uidMove],
  ['UID EXPUNGE', uidExpunge],
]);
