// Shared client state and hash routing: #/f/<folder>[/<uid>[/journey]].
/* global location, Event */

export const state = {
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

export function hashFor(folder, uid, view) {
  let hash = `#/f/${encodeURIComponent(folder)}`;
  if (uid) hash += `/${uid}`;
  if (uid && view === 'journey') hash += '/journey';
  return hash;
}

export function parseHash() {
  const parts = location.hash.replace(/^#\/?/, '').split('/');
  if (parts[0] !== 'f' || !parts[1]) return { folder: 'INBOX', uid: null, view: 'message' };
  return {
    folder: decodeURIComponent(parts[1]),
    uid: parts[2] ? Number(parts[2]) : null,
    view: parts[3] === 'journey' ? 'journey' : 'message',
  };
}

export function go(folder, uid = null, view = 'message') {
  const hash = hashFor(folder, uid, view);
  if (location.hash === hash) window.dispatchEvent(new Event('hashchange'));
  else location.hash = hash;
}

export function setPane(pane) { document.body.dataset.pane = pane; }
