// mxlab web mail: login, routing, live updates, keyboard.
/* global location, HTMLInputElement, HTMLTextAreaElement, HTMLSelectElement */
import { get, post, setCsrf, whenLoggedOut } from './api.js';
import { composeFrom, composeNew, onSent, setupCompose } from './compose.js';
import { $, toast } from './dom.js';
import { loadFolders, loadList, moveSelection, renderFolders } from './list.js';
import { closeReader, deleteMessage, markUnread, openMessage, showView, toggleFlag } from './reader.js';
import { go, hashFor, parseHash, setPane, state } from './state.js';

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
