// mxlab web mail: login, folders, message list, reading pane, journey, live updates.
/* global location, HTMLInputElement, HTMLTextAreaElement, HTMLSelectElement */
import { ApiError, get, post, setCsrf, url, whenLoggedOut } from './api.js';
import { composeFrom, composeNew, onSent, setupCompose } from './compose.js';
import { $, formatFullDate, formatListDate, formatSize, fullAddress, h, person, replace, toast } from './dom.js';
import { icon } from './icons.js';
import { renderJourney } from './journey.js';

const state = {
  address: '',
  folders: [],
  folder: 'INBOX',
  page: 1,
  query: '',
  list: null,
  openUid: null,
  view: 'message',
  message: null,
  events: null,
};

const FOLDER_ICONS = { inbox: 'inbox', sent: 'sent', drafts: 'drafts', trash: 'trash', junk: 'junk' };

// ---------- routing: #/f/<folder>[/<uid>[/journey]] ----------

function hashFor(folder, uid, view) {
  let hash = `#/f/${encodeURIComponent(folder)}`;
  if (uid) hash += `/${uid}`;
  if (uid && view === 'journey') hash += '/journey';
  return hash;
}

function parseHash() {
  const parts = location.hash.replace(/^#\/?/, '').split('/');
  if (parts[0] !== 'f' || !parts[1]) return { folder: 'INBOX', uid: null, view: 'message' };
  return {
    folder: decodeURIComponent(parts[1]),
    uid: parts[2] ? Number(parts[2]) : null,
    view: parts[3] === 'journey' ? 'journey' : 'message',
  };
}

function go(folder, uid = null, view = 'message') {
  const hash = hashFor(folder, uid, view);
  if (location.hash === hash) void route();
  else location.hash = hash;
}

async function route() {
  const next = parseHash();
  const folderChanged = next.folder !== state.folder || !state.list;
  if (next.folder !== state.folder) { state.page = 1; state.query = ''; $('#search-input').value = ''; }
  state.folder = next.folder;
  renderFolders();
  if (folderChanged) await loadList();
  if (next.uid) {
    setPane('reader');
    if (next.uid !== state.openUid || !state.message) await openMessage(next.uid, next.view);
    else showView(next.view);
  } else {
    closeReader();
    setPane('list');
  }
}

function setPane(pane) { document.body.dataset.pane = pane; }

// ---------- login ----------

function showLogin(message) {
  if (state.events) { state.events.close(); state.events = null; }
  $('#app-view').hidden = true;
  $('#login-view').hidden = false;
  const error = $('#login-error');
  error.textContent = message ?? '';
  error.hidden = !message;
  $('#login-address').focus();
  document.title = 'Sign in · mxlab mail';
}

async function boot() {
  whenLoggedOut(() => showLogin('Your session has ended. Please sign in again.'));
  setupCompose();
  onSent(() => { void loadFolders(); if (state.folders.find((f) => f.path === state.folder)?.specialUse === 'sent') void loadList(); });
  bindUi();
  try {
    const session = await get('session');
    setCsrf(session.csrf);
    if (session.loggedIn) await showApp(session.address);
    else showLogin();
  } catch (error) {
    showLogin(error.message);
  }
}

async function login(event) {
  event.preventDefault();
  const button = $('#login-submit');
  const address = $('#login-address').value.trim();
  const password = $('#login-password').value;
  if (!address || !password) { showLogin('Enter your mail address and your password.'); return; }
  button.disabled = true;
  button.textContent = 'Signing in…';
  try {
    const session = await post('login', { address, password });
    if (!session.loggedIn) throw new Error(session.error || 'Wrong address or password.');
    setCsrf(session.csrf);
    $('#login-password').value = '';
    await showApp(session.address);
  } catch (error) {
    showLogin(error.message);
    $('#login-password').select();
  } finally {
    button.disabled = false;
    button.textContent = 'Sign in';
  }
}

async function logout() {
  try { await post('logout'); } catch (error) { toast(error.message, 'error'); }
  const session = await get('session');
  setCsrf(session.csrf);
  state.list = null; state.message = null; state.openUid = null;
  showLogin();
}

async function showApp(address) {
  state.address = address;
  $('#login-view').hidden = true;
  $('#app-view').hidden = false;
  $('#user-address').textContent = address;
  await loadFolders();
  connectLive();
  if (!location.hash) location.hash = hashFor('INBOX');
  await route();
  $('#message-list').focus();
}

// ---------- folders ----------

async function loadFolders() {
  try {
    const { folders } = await get('folders');
    const order = { inbox: 0, drafts: 1, sent: 2, junk: 3, trash: 4 };
    state.folders = folders.sort((a, b) => (order[a.specialUse] ?? 9) - (order[b.specialUse] ?? 9) || a.name.localeCompare(b.name));
    renderFolders();
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) toast(error.message, 'error');
  }
}

function renderFolders() {
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

// ---------- message list ----------

function isSent() {
  const folder = state.folders.find((item) => item.path === state.folder);
  return folder?.specialUse === 'sent' || folder?.specialUse === 'drafts';
}

async function loadList() {
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

function rowLinks() { return [...document.querySelectorAll('#messages a.row')]; }

function moveSelection(step) {
  const links = rowLinks();
  if (links.length === 0) return;
  const active = links.indexOf(document.activeElement);
  const open = links.findIndex((link) => Number(link.dataset.uid) === state.openUid);
  const from = active !== -1 ? active : open;
  const next = links[Math.max(0, Math.min(links.length - 1, from === -1 ? 0 : from + step))];
  next.focus();
}

// ---------- reading ----------

function closeReader() {
  state.openUid = null;
  state.message = null;
  $('#reader-content').hidden = true;
  $('#reader-empty').hidden = false;
  for (const link of rowLinks()) link.removeAttribute('aria-current');
}

function toolbarButton(label, key, onclick, extra = {}) {
  return h('button', { type: 'button', class: 'tool', 'aria-keyshortcuts': key, onclick, ...extra }, label);
}

async function openMessage(uid, view) {
  const folder = state.folder;
  let message;
  try {
    message = await get('message', { folder, uid });
  } catch (error) {
    toast(error.message, 'error');
    return;
  }
  state.openUid = uid;
  state.message = message;
  const flags = state.list?.messages.find((item) => item.uid === uid)?.flags ?? [];
  if (!flags.includes('\\Seen')) { flags.push('\\Seen'); void loadFolders(); }
  for (const link of rowLinks()) {
    const current = Number(link.dataset.uid) === uid;
    link.toggleAttribute('aria-current', current);
    if (current) link.classList.remove('unread');
  }
  renderReader(folder, uid, message, flags);
  showView(view);
}

function renderReader(folder, uid, message, flags) {
  const flagged = flags.includes('\\Flagged');
  const moveTargets = state.folders.filter((item) => item.path !== folder);
  const moveSelect = h('select', { id: 'move-select', 'aria-label': 'Move to folder' },
    h('option', { value: '' }, 'Move to…'),
    moveTargets.map((item) => h('option', { value: item.path }, item.name)));
  moveSelect.addEventListener('change', () => { if (moveSelect.value) void moveMessage(moveSelect.value); });

  const headerRows = [
    ['From', message.from.map(fullAddress).join(', ')],
    ['To', message.to.map(fullAddress).join(', ')],
    ...(message.cc.length ? [['Cc', message.cc.map(fullAddress).join(', ')]] : []),
    ['Date', formatFullDate(message.date)],
  ];

  const body = h('div', { class: 'body', id: 'message-body' });
  if (message.hasHtml) {
    const frame = h('iframe', {
      class: 'message-frame',
      title: 'Message content',
      sandbox: 'allow-popups allow-popups-to-escape-sandbox',
      referrerpolicy: 'no-referrer',
      src: url('message/frame', { folder, uid }),
    });
    if (message.blockedImages) {
      const bar = h('div', { class: 'notice' },
        h('span', {}, icon('shield'), ` ${message.blockedImages} remote image${message.blockedImages === 1 ? ' was' : 's were'} blocked to protect your privacy.`),
        h('button', { type: 'button', id: 'show-images', onclick: () => { frame.src = url('message/frame', { folder, uid, images: '1' }); bar.remove(); } }, 'Show images'));
      body.append(bar);
    }
    body.append(frame);
  } else {
    body.append(h('pre', { class: 'text-body' }, message.text || '(empty message)'));
  }
  if (message.attachments.length) {
    body.append(h('div', { class: 'attachments' },
      h('h3', { class: 'small' }, `Attachments (${message.attachments.length})`),
      h('ul', { class: 'chips' }, message.attachments.map((item) => h('li', {},
        h('a', { class: 'chip', href: url('message/attachment', { folder, uid, index: item.index }), download: item.filename },
          icon('clip'), ` ${item.filename}`, h('span', { class: 'muted small' }, ` ${formatSize(item.size)}`)))))));
  }

  replace($('#reader-content'),
    h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Message actions' },
      h('button', { type: 'button', class: 'tool only-phone', onclick: () => go(state.folder) }, '‹ Back'),
      toolbarButton([icon('reply'), ' Reply'], 'r', () => composeFrom(folder, uid, 'reply')),
      toolbarButton([icon('reply'), ' Reply all'], 'a', () => composeFrom(folder, uid, 'all')),
      toolbarButton([icon('forward'), ' Forward'], 'f', () => composeFrom(folder, uid, 'forward')),
      toolbarButton('Mark unread', 'u', () => markUnread()),
      toolbarButton(flagged ? 'Unflag' : 'Flag', 's', () => toggleFlag(), { 'aria-pressed': flagged ? 'true' : 'false', id: 'flag-button' }),
      moveSelect,
      toolbarButton([icon('trash'), ' Delete'], 'Delete', () => deleteMessage(), { class: 'tool danger' })),
    h('h2', { class: 'subject' }, message.subject || '(no subject)'),
    h('dl', { class: 'headers' }, headerRows.flatMap(([name, value]) => [h('dt', {}, name), h('dd', {}, value)])),
    h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Views of this message' },
      h('a', { role: 'tab', id: 'tab-message', class: 'tab', href: hashFor(folder, uid, 'message'), 'aria-controls': 'panel-message' }, 'Message'),
      h('a', { role: 'tab', id: 'tab-journey', class: 'tab', href: hashFor(folder, uid, 'journey'), 'aria-controls': 'panel-journey', 'aria-keyshortcuts': 'v' }, icon('route'), ' Journey'),
      h('a', { class: 'tab tab-source', href: url('message/source', { folder, uid }), target: '_blank', rel: 'noopener' }, 'Source')),
    h('div', { role: 'tabpanel', id: 'panel-message', 'aria-labelledby': 'tab-message' }, body),
    h('div', { role: 'tabpanel', id: 'panel-journey', 'aria-labelledby': 'tab-journey', hidden: true }, h('p', { class: 'muted' }, 'Loading the journey…')));
  $('#reader-empty').hidden = true;
  $('#reader-content').hidden = false;
}

async function showView(view) {
  state.view = view;
  const journey = view === 'journey';
  $('#panel-message').hidden = journey;
  $('#panel-journey').hidden = !journey;
  $('#tab-message').setAttribute('aria-selected', String(!journey));
  $('#tab-journey').setAttribute('aria-selected', String(journey));
  if (journey && !$('#panel-journey').dataset.loaded) {
    try {
      const data = await get('message/journey', { folder: state.folder, uid: state.openUid });
      replace($('#panel-journey'), renderJourney(data));
      $('#panel-journey').dataset.loaded = '1';
    } catch (error) {
      replace($('#panel-journey'), h('p', { class: 'error' }, error.message));
    }
  }
}

async function act(path, data, done) {
  try {
    await post(path, data);
    if (done) toast(done);
    await Promise.all([loadFolders(), loadList()]);
  } catch (error) {
    toast(error.message, 'error');
  }
}

async function markUnread() {
  if (!state.openUid) return;
  const uid = state.openUid;
  await act('message/flag', { folder: state.folder, uid, flag: 'seen', on: false }, 'Marked as unread.');
  go(state.folder);
}

async function toggleFlag() {
  if (!state.openUid) return;
  const button = $('#flag-button');
  const on = button.getAttribute('aria-pressed') !== 'true';
  await act('message/flag', { folder: state.folder, uid: state.openUid, flag: 'flagged', on });
  button.setAttribute('aria-pressed', String(on));
  button.textContent = on ? 'Unflag' : 'Flag';
}

async function moveMessage(target) {
  const uid = state.openUid;
  if (!uid) return;
  const name = state.folders.find((item) => item.path === target)?.name ?? target;
  await act('message/move', { folder: state.folder, uid, target }, `Moved to ${name}.`);
  go(state.folder);
}

async function deleteMessage() {
  const uid = state.openUid;
  if (!uid) return;
  const inTrash = state.folders.find((item) => item.path === state.folder)?.specialUse === 'trash';
  await act('message/delete', { folder: state.folder, uid }, inTrash ? 'Deleted for good.' : 'Moved to Trash.');
  go(state.folder);
}

// ---------- live mail (IMAP IDLE → Server-Sent Events) ----------

function setLive(text, ok) {
  $('#live-status .live-text').textContent = text;
  $('#live-status').dataset.ok = ok ? '1' : '0';
}

function connectLive() {
  if (state.events) state.events.close();
  const events = new EventSource('/api/events');
  state.events = events;
  events.addEventListener('ready', () => setLive('Live: new mail shows up by itself', true));
  events.addEventListener('mail', (event) => {
    const data = JSON.parse(event.data);
    void loadFolders();
    if (data.folder === state.folder) void loadList();
    if (data.type === 'new') toast('New mail arrived.');
  });
  events.addEventListener('error', () => setLive('Reconnecting…', false));
}

// ---------- keyboard and controls ----------

function typing(target) {
  return target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement || target?.isContentEditable;
}

function onKey(event) {
  if ($('#app-view').hidden || event.ctrlKey || event.metaKey || event.altKey) return;
  if (document.querySelector('dialog[open]')) return;
  if (event.key === 'Escape') {
    if (typing(event.target)) event.target.blur();
    else if (state.openUid) go(state.folder);
    return;
  }
  if (typing(event.target)) return;
  const uid = state.openUid;
  const actions = {
    j: () => moveSelection(1),
    k: () => moveSelection(-1),
    c: () => composeNew(),
    '/': () => $('#search-input').focus(),
    '?': () => $('#help').showModal(),
    r: () => uid && composeFrom(state.folder, uid, 'reply'),
    a: () => uid && composeFrom(state.folder, uid, 'all'),
    f: () => uid && composeFrom(state.folder, uid, 'forward'),
    v: () => uid && go(state.folder, uid, state.view === 'journey' ? 'message' : 'journey'),
    u: () => uid && markUnread(),
    s: () => uid && toggleFlag(),
    '#': () => uid && deleteMessage(),
    Delete: () => uid && deleteMessage(),
  };
  const action = actions[event.key];
  if (action) {
    event.preventDefault();
    action();
  }
}

function bindUi() {
  $('#login-form').addEventListener('submit', login);
  $('#logout-button').addEventListener('click', logout);
  $('#compose-button').addEventListener('click', () => composeNew());
  $('#help-button').addEventListener('click', () => $('#help').showModal());
  $('#show-folders').addEventListener('click', () => setPane(document.body.dataset.pane === 'folders' ? 'list' : 'folders'));
  $('#newer-button').addEventListener('click', () => { state.page -= 1; void loadList(); });
  $('#older-button').addEventListener('click', () => { state.page += 1; void loadList(); });
  $('#search-form').addEventListener('submit', (event) => {
    event.preventDefault();
    state.query = $('#search-input').value.trim();
    state.page = 1;
    void loadList();
    go(state.folder);
  });
  window.addEventListener('hashchange', () => void route());
  document.addEventListener('keydown', onKey);
}

void boot();
