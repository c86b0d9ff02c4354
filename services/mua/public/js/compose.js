// The compose dialog: new message, reply, reply all, forward; sends as multipart form.
import { get, postForm } from './api.js';
import { $, formatSize, h, replace, toast } from './dom.js';
import { icon } from './icons.js';

// The server's limit (routes/multipart.ts MAX_UPLOAD_BYTES), checked here before uploading.
const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;

let context = {};
let afterSend = () => {};

export function onSent(callback) { afterSend = callback; }

function showError(text) {
  const node = $('#compose-error');
  node.textContent = text;
  node.hidden = !text;
}

function fill(values) {
  $('#compose-to').value = values.to ?? '';
  $('#compose-cc').value = values.cc ?? '';
  $('#compose-bcc').value = '';
  $('#compose-subject').value = values.subject ?? '';
  $('#compose-text').value = values.text ?? '';
  $('#compose-files').value = '';
  replace($('#compose-forwarded'), (values.attachments ?? []).map((item) =>
    h('li', { class: 'chip' }, icon('clip'), ` ${item.filename} (${formatSize(item.size)})`)));
  showError('');
}

function open(title) {
  $('#compose-title').textContent = title;
  const dialog = $('#compose');
  if (!dialog.open) dialog.showModal();
  const focus = $('#compose-to').value ? $('#compose-text') : $('#compose-to');
  focus.focus();
  if (focus === $('#compose-text')) focus.setSelectionRange(0, 0);
}

export function composeNew() {
  context = {};
  fill({});
  open('New message');
}

/** mode: reply | all | forward */
export async function composeFrom(folder, uid, mode) {
  try {
    const draft = await get('message/draft', { folder, uid, mode });
    context = mode === 'forward'
      ? { forwardFolder: folder, forwardUid: uid }
      : { replyFolder: folder, replyUid: uid, inReplyTo: draft.inReplyTo ?? '', references: draft.references.join(' ') };
    fill(draft);
    open(mode === 'forward' ? 'Forward' : mode === 'all' ? 'Reply all' : 'Reply');
  } catch (error) {
    toast(error.message, 'error');
  }
}

async function send(event) {
  event.preventDefault();
  const button = $('#compose-send');
  const form = new FormData();
  for (const name of ['to', 'cc', 'bcc', 'subject', 'text']) form.append(name, $(`#compose-${name}`).value);
  for (const [name, value] of Object.entries(context)) form.append(name, String(value));
  for (const file of $('#compose-files').files) form.append('attachments', file, file.name);
  if (!$('#compose-to').value.trim() && !$('#compose-cc').value.trim() && !$('#compose-bcc').value.trim()) {
    showError('Add at least one recipient.');
    $('#compose-to').focus();
    return;
  }
  const size = [...$('#compose-files').files].reduce((sum, file) => sum + file.size, 0);
  if (size > MAX_UPLOAD_BYTES) {
    showError(`The attachments are too large: at most ${MAX_UPLOAD_BYTES / 1024 / 1024} MB together.`);
    return;
  }
  button.disabled = true;
  button.textContent = 'Sending…';
  showError('');
  try {
    await postForm('send', form);
    $('#compose').close();
    toast('Message sent.');
    afterSend();
  } catch (error) {
    showError(error.message);
  } finally {
    button.disabled = false;
    button.textContent = 'Send';
  }
}

function discard() {
  $('#compose').close();
}

export function setupCompose() {
  $('#compose-form').addEventListener('submit', send);
  $('#compose-cancel').addEventListener('click', discard);
  $('#compose-close').addEventListener('click', discard);
  $('#compose-form').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) send(event);
  });
}
