// api.js: every request of the console goes through here, to the node's
// Nacos HTTP API, with the token of the login (if any) as a Bearer header.

const store = window.sessionStorage;

// session is the login of this tab.
export const session = {
  get token() { return store.getItem('sextant.token') || ''; },
  get user() { return store.getItem('sextant.user') || ''; },
  get admin() { return store.getItem('sextant.admin') === 'true'; },
  save(login) {
    store.setItem('sextant.token', login.accessToken || '');
    store.setItem('sextant.user', login.username || '');
    store.setItem('sextant.admin', String(!!login.globalAdmin));
  },
  clear() {
    for (const k of ['sextant.token', 'sextant.user', 'sextant.admin']) store.removeItem(k);
  },
};

// ApiError is a refused or failed request, with the server's words.
export class ApiError extends Error {
  constructor(status, message, path) {
    super(message);
    this.status = status;
    this.path = path;
  }
  // needsLogin: the request was refused for who sent it, not for what.
  get needsLogin() {
    return this.status === 403 && /user not found|token expired|token invalid|unknown user|token|login/i.test(this.message)
      && !/authorization failed/i.test(this.message);
  }
}

// api sends one request. Parameters go in the query for GET and DELETE and
// in a form body otherwise, as Nacos clients send them. It answers the
// parsed JSON, or the text for plain answers such as "ok".
export async function api(method, path, params = {}) {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null) form.append(k, String(v));
  }
  let url = path;
  let body;
  const headers = {};
  if (method === 'GET' || method === 'DELETE') {
    const q = form.toString();
    if (q) url += '?' + q;
  } else {
    body = form.toString();
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
  }
  if (session.token) headers.Authorization = 'Bearer ' + session.token;
  let resp;
  try {
    resp = await fetch(url, { method, headers, body, cache: 'no-store', credentials: 'omit' });
  } catch (e) {
    throw new ApiError(0, 'The node did not answer (' + e.message + '). Is it running?', path);
  }
  const text = await resp.text();
  if (!resp.ok) {
    let msg = text.trim();
    try {
      const j = JSON.parse(msg);
      msg = j.message || j.msg || msg;
    } catch (_) { /* plain text, as Nacos answers errors */ }
    if (!msg) msg = resp.status + ' ' + resp.statusText;
    throw new ApiError(resp.status, msg, path);
  }
  if ((resp.headers.get('Content-Type') || '').includes('json')) {
    return text ? JSON.parse(text) : null;
  }
  return text;
}

// probeAuth tells whether the node asks for a login: a view any logged-in
// user may read is asked for without a token.
export async function probeAuth() {
  const resp = await fetch('/nacos/v1/console/dns', { cache: 'no-store', credentials: 'omit' });
  return resp.status === 403;
}
