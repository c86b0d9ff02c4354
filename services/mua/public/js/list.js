// Folders with unread counts, and the paged message list.
import { ApiError, get } from './api.js';
import { $, formatListDate, formatSize, h, person, replace, toast } from './dom.js';
import { icon } from './icons.js';
import { hashFor, setPane, state } from './state.js';

const FOLDER_ICONS = { inbox: 'inbox', sent: 'sent', drafts: 'drafts', trash: 'trash', junk: 'junk' };

export async function loadFolders() {
  try {
    const { folders } = await get('folders');
    const order = { inbox: 0, drafts: 1, sent: 2, junk: 3, trash: 4 };
    state.folders = folders.sort((a, b) => (order[a.specialUse] ?? 9) - (order[b.specialUse] ?? 9) || a.name.localeCompare(b.name));
    renderFolders();
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) toast(error.message, 'error');
  }
}

export function renderFolders() {
  replace($('#folder-list'), state.folders.map((folder) => h('li', {},
    h('a', {
      href: hashFor(folder.path),
      class: 'folder',
      'aria-current': folder.path === state.folder ? 'page' : undefined,
      onclick: () => setPane('list'),
    },
    icon(FOLDER_ICONS[folder.specialUse] ?? 'folder'),
    h('span', { class: 'folder-name' }, folder.name),
    folder.unread ? h('span', { class: 'count', 'aria-label': `${folder.unread} unread` }, String(folder.unread)) : null))));
  const current = state.folders.find((folder) => folder.path === state.folder);
  const unread = state.folders.find((folder) => folder.specialUse === 'inbox')?.unread ?? 0;
  $('#list-title').textContent = current?.name ?? state.folder;
  document.title = `${unread ? `(${unread}) ` : ''}${current?.name ?? state.folder} · mxlab mail`;
}

function isSent() {
  const folder = state.folders.find((item) => item.path === state.folder);
  return folder?.specialUse === 'sent' || folder?.specialUse === 'drafts';
}

export async function loadList() {
  try {
    state.list = await get('messages', { folder: state.folder, page: state.page, ...(state.query ? { q: state.query } : {}) });
    renderList();
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) toast(error.message, 'error');
  }
}

function renderList() {
  const list = state.list;
  const sent = isSent();
  const rows = list.messages.map((message) => {
    const unread = !message.flags.includes('\\Seen');
    const flagged = message.flags.includes('\\Flagged');
    const answered = message.flags.includes('\\Answered');
    const who = sent ? `To: ${person(message.to)}` : person(message.from);
    return h('li', { class: 'message-item' },
      h('a', {
        href: hashFor(state.folder, message.uid),
        class: `row${unread ? ' unread' : ''}`,
        'aria-current': message.uid === state.openUid ? 'true' : undefined,
        dataset: { uid: String(message.uid) },
        'aria-label': `${unread ? 'Unread. ' : ''}${flagged ? 'Flagged. ' : ''}${who}. ${message.subject || '(no subject)'}. ${formatListDate(message.date)}`,
      },
      h('span', { class: 'row-flags', 'aria-hidden': 'true' },
        h('span', { class: `unread-dot${unread ? ' on' : ''}` }),
        flagged ? h('span', { class: 'star' }, icon('star')) : null,
        answered ? h('span', { class: 'answered', title: 'Answered' }, icon('reply')) : null),
      h('span', { class: 'row-from' }, who),
      h('span', { class: 'row-date' }, formatListDate(message.date)),
      h('span', { class: 'row-subject' }, message.subject || '(no subject)'),
      h('span', { class: 'row-meta' },
        message.hasAttachments ? h('span', { class: 'clip', title: 'Has attachments' }, icon('clip', 'has attachments')) : null,
        h('span', { class: 'size' }, formatSize(message.size)))));
  });
  replace($('#messages'), rows.length ? rows : h('li', { class: 'empty-list muted' }, state.query ? 'No message matches your search.' : 'No messages here.'));
  const first = (list.page - 1) * list.pageSize + 1;
  const last = first + list.messages.length - 1;
  $('#list-count').textContent = state.query ? `${list.total} found for “${state.query}”` : `${list.total} message${list.total === 1 ? '' : 's'}`;
  $('#page-info').textContent = list.total ? `${first}–${last} of ${list.total}` : '';
  $('#newer-button').disabled = list.page <= 1;
  $('#older-button').disabled = last >= list.total;
}

export function rowLinks() { return [...document.querySelectorAll('#messages a.row')]; }

export function moveSelection(step) {
  const links = rowLinks();
  if (links.length === 0) return;
  const active = links.indexOf(document.activeElement);
  const open = links.findIndex((link) => Number(link.dataset.uid) === state.openUid);
  const from = active !== -1 ? active : open;
  const next = links[Math.max(0, Math.min(links.length - 1, from === -1 ? 0 : from + step))];
  next.focus();
}
