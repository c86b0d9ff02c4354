// The JSON API of the MUA server. Every state-changing request carries the CSRF token.
/* global URLSearchParams */

let csrf = '';
let onLoggedOut = () => {};

export function setCsrf(token) { csrf = token; }
export function whenLoggedOut(callback) { onLoggedOut = callback; }

export class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function handle(response) {
  const type = response.headers.get('content-type') || '';
  const body = type.includes('application/json') ? await response.json() : {};
  if (response.status === 401 && !response.url.endsWith('/api/login')) onLoggedOut();
  if (!response.ok) throw new ApiError(response.status, body.error || `Request failed (${response.status}).`, body.code);
  return body;
}

export async function get(path, params = {}) {
  const query = new URLSearchParams(params).toString();
  return handle(await fetch(`/api/${path}${query ? `?${query}` : ''}`, { credentials: 'same-origin' }));
}

export async function post(path, data) {
  return handle(await fetch(`/api/${path}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
    body: JSON.stringify(data ?? {}),
  }));
}

export async function postForm(path, form) {
  return handle(await fetch(`/api/${path}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'X-CSRF-Token': csrf },
    body: form,
  }));
}

export function url(path, params) {
  return `/api/${path}?${new URLSearchParams(params).toString()}`;
}
