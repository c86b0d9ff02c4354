// The reading pane: headers, text or sandboxed HTML, attachments, the journey tab, actions.
import { get, post, url } from './api.js';
import { composeFrom } from './compose.js';
import { $, formatFullDate, formatSize, fullAddress, h, replace, toast } from './dom.js';
import { icon } from './icons.js';
import { renderJourney } from './journey.js';
import { loadFolders, loadList, rowLinks } from './list.js';
import { go, hashFor, state } from './state.js';

export function closeReader() {
  state.openUid = null;
  state.message = null;
  $('#reader-content').hidden = true;
  $('#reader-empty').hidden = false;
  for (const link of rowLinks()) link.removeAttribute('aria-current');
}

function toolbarButton(label, key, onclick, extra = {}) {
  return h('button', { type: 'button', class: 'tool', 'aria-keyshortcuts': key, onclick, ...extra }, label);
}

export async function openMessage(uid, view) {
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

/**
 * The receiving server's DMARC verdict on the From domain (its Authentication-Results):
 * a failure is marked plainly, since the From line may then be anyone's; a pass is noted.
 */
function senderMark(check) {
  if (!check) return null;
  const domain = check.domain ?? 'the sender’s domain';
  if (check.dmarc === 'fail') {
    const text = check.forgiven
      ? ` failed DMARC, let through: ${check.authservId} trusted the forwarding server’s ARC seal`
      : ` failed DMARC: this message may not be from ${domain}`;
    return h('span', { class: `sender-check ${check.forgiven ? 'warn' : 'bad'}`, id: 'sender-check', dataset: { dmarc: check.dmarc },
      title: `Authentication-Results by ${check.authservId}: dmarc=fail${check.policy ? ` (p=${check.policy})` : ''}${check.comment ? `, ${check.comment}` : ''}` },
    icon('junk'), text);
  }
  if (check.dmarc === 'pass') {
    return h('span', { class: 'sender-check good', id: 'sender-check', dataset: { dmarc: check.dmarc }, title: `Authentication-Results by ${check.authservId}: dmarc=pass` },
      icon('check'), ` ${domain} verified (DMARC)`);
  }
  return h('span', { class: 'sender-check neutral', id: 'sender-check', dataset: { dmarc: check.dmarc }, title: `Authentication-Results by ${check.authservId}` }, ` DMARC ${check.dmarc}`);
}

function renderReader(folder, uid, message, flags) {
  const flagged = flags.includes('\\Flagged');
  const moveTargets = state.folders.filter((item) => item.path !== folder);
  const moveSelect = h('select', { id: 'move-select', 'aria-label': 'Move to folder' },
    h('option', { value: '' }, 'Move to…'),
    moveTargets.map((item) => h('option', { value: item.path }, item.name)));
  moveSelect.addEventListener('change', () => { if (moveSelect.value) void moveMessage(moveSelect.value); });

  const headerRows = [
    ['From', [message.from.map(fullAddress).join(', '), senderMark(message.senderCheck)]],
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
      toolbarButton(flagged ? [icon('star'), ' Unflag'] : 'Flag', 's', () => toggleFlag(), { 'aria-pressed': flagged ? 'true' : 'false', id: 'flag-button' }),
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

export async function showView(view) {
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

export async function markUnread() {
  if (!state.openUid) return;
  const uid = state.openUid;
  await act('message/flag', { folder: state.folder, uid, flag: 'seen', on: false }, 'Marked as unread.');
  go(state.folder);
}

export async function toggleFlag() {
  if (!state.openUid) return;
  const button = $('#flag-button');
  const on = button.getAttribute('aria-pressed') !== 'true';
  await act('message/flag', { folder: state.folder, uid: state.openUid, flag: 'flagged', on });
  button.setAttribute('aria-pressed', String(on));
  replace(button, on ? [icon('star'), ' Unflag'] : 'Flag');
}

async function moveMessage(target) {
  const uid = state.openUid;
  if (!uid) return;
  const name = state.folders.find((item) => item.path === target)?.name ?? target;
  await act('message/move', { folder: state.folder, uid, target }, `Moved to ${name}.`);
  go(state.folder);
}

export async function deleteMessage() {
  const uid = state.openUid;
  if (!uid) return;
  const inTrash = state.folders.find((item) => item.path === state.folder)?.specialUse === 'trash';
  await act('message/delete', { folder: state.folder, uid }, inTrash ? 'Deleted for good.' : 'Moved to Trash.');
  go(state.folder);
}
