// ui.js: building blocks of the pages. Everything is built as DOM nodes
// with text content, never from HTML strings, so names and metadata from
// the registry cannot inject markup.

// h builds an element: attrs holds attributes, "class", "text" and on*
// handlers; children are nodes, strings, arrays or null (skipped).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

// link is an anchor to a page of the console.
export function link(page, params, text, attrs = {}) {
  return h('a', { href: href(page, params), ...attrs }, text);
}

// href is the fragment of a page with its parameters.
export function href(page, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return '#/' + page + (s ? '?' + s : '');
}

// table builds a table; columns are {title, cell(row) → node or text,
// class}. A caption names it for screen readers.
export function table(caption, columns, rows, empty = 'Nothing here yet.', cls = '') {
  const head = h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.class }, c.title)));
  const body = h('tbody');
  if (!rows.length) {
    body.append(h('tr', {}, h('td', { colspan: columns.length, class: 'empty' }, empty)));
  }
  for (const r of rows) {
    body.append(h('tr', {}, columns.map((c) => h('td', { class: c.class, 'data-label': c.title }, h('div', { class: 'cell' }, c.cell(r))))));
  }
  return h('div', { class: 'scroll' }, h('table', { class: cls }, h('caption', { class: 'sr' }, caption), h('thead', {}, head), body));
}

// badge is a small label; kind is ok, bad, warn or muted.
export function badge(text, kind = 'muted', title = '') {
  return h('span', { class: 'badge ' + kind, title: title || undefined }, text);
}

export function yesNo(v, yes = 'yes', no = 'no', bad = 'bad') {
  return v ? badge(yes, 'ok') : badge(no, bad);
}

// errorBox shows an error in words.
export function errorBox(err, what = '') {
  const msg = err && err.message ? err.message : String(err);
  const status = err && err.status ? ' (HTTP ' + err.status + ')' : '';
  return h('div', { class: 'error', role: 'alert' }, (what ? what + ': ' : '') + msg + status);
}

// toast shows a short message for a few seconds.
export function toast(msg) {
  const t = document.getElementById('toast');
  t.textContent = msg;
  t.classList.add('show');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => t.classList.remove('show'), 4000);
}

// field is one input of a form dialog: {name, label, type (text, number,
// password, textarea, select, checkbox), value, options, help, required}.
function field(f) {
  const id = 'f-' + f.name;
  let input;
  if (f.type === 'textarea') {
    input = h('textarea', { id, name: f.name, rows: f.rows || 4, required: f.required, placeholder: f.placeholder });
    input.value = f.value ?? '';
  } else if (f.type === 'select') {
    input = h('select', { id, name: f.name }, f.options.map((o) => {
      const [value, label] = Array.isArray(o) ? o : [o, o];
      return h('option', { value, selected: String(value) === String(f.value ?? '') }, label);
    }));
  } else if (f.type === 'checkbox') {
    input = h('input', { id, name: f.name, type: 'checkbox', checked: !!f.value });
  } else {
    input = h('input', {
      id, name: f.name, type: f.type || 'text', required: f.required, placeholder: f.placeholder,
      min: f.min, max: f.max, step: f.step, autocomplete: f.autocomplete || 'off', readonly: f.readonly,
    });
    input.value = f.value ?? '';
  }
  const help = f.help ? h('small', { id: id + '-help' }, f.help) : null;
  if (help) input.setAttribute('aria-describedby', id + '-help');
  if (f.type === 'checkbox') return h('div', { class: 'field check wide' }, input, h('label', { for: id }, f.label), help);
  const wide = f.type === 'textarea' || f.type === 'select' || f.wide;
  return h('div', { class: wide ? 'field wide' : 'field' }, h('label', { for: id }, f.label), input, help);
}

// formValues reads a form's fields by name.
function formValues(form, fields) {
  const out = {};
  for (const f of fields) {
    const el = form.elements.namedItem(f.name);
    out[f.name] = f.type === 'checkbox' ? el.checked : el.value.trim();
  }
  return out;
}

// dialog opens a modal form. onSubmit(values) may throw: the error is shown
// in the dialog, which stays open; on success it closes and resolves true.
// Escape or Cancel resolve false.
export function dialog({ title, fields = [], text = '', submit = 'Save', danger = false, onSubmit }) {
  return new Promise((resolve) => {
    const err = h('div', { class: 'dialog-error', role: 'alert' });
    const form = h('form', { method: 'dialog', novalidate: false },
      h('h2', { id: 'dlg-title' }, title),
      text ? h('p', {}, text) : null,
      h('div', { class: 'fields' }, fields.map(field)),
      err,
      h('div', { class: 'buttons' },
        h('button', { type: 'button', class: 'secondary', onclick: () => close(false) }, 'Cancel'),
        h('button', { type: 'submit', class: danger ? 'danger' : 'primary' }, submit)));
    const dlg = h('dialog', { 'aria-labelledby': 'dlg-title' }, form);
    let done = false;
    function close(result) {
      if (done) return;
      done = true;
      dlg.close();
      dlg.remove();
      resolve(result);
    }
    dlg.addEventListener('cancel', (e) => { e.preventDefault(); close(false); });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const btn = form.querySelector('button[type=submit]');
      btn.disabled = true;
      err.textContent = '';
      try {
        if (onSubmit) await onSubmit(formValues(form, fields));
        close(true);
      } catch (x) {
        err.textContent = x && x.message ? x.message + (x.status ? ' (HTTP ' + x.status + ')' : '') : String(x);
        btn.disabled = false;
      }
    });
    document.body.append(dlg);
    dlg.showModal();
    const first = form.querySelector('input:not([readonly]),select,textarea') || form.querySelector('button[type=submit]');
    first.focus();
  });
}

// confirmAction asks before a change that cannot be undone, then runs it.
export function confirmAction(title, text, submit, run) {
  return dialog({ title, text, submit, danger: true, onSubmit: run });
}

// button is a button that runs an async action and reports its error.
export function button(label, action, cls = 'secondary', attrs = {}) {
  return h('button', {
    type: 'button', class: cls, ...attrs, onclick: async (e) => {
      const b = e.currentTarget;
      b.disabled = true;
      try {
        await action();
      } catch (x) {
        toast((x && x.message) || String(x));
      } finally {
        b.disabled = false;
      }
    },
  }, label);
}

// pager moves through a server-side paged list.
export function pager(pageNo, pageSize, count, goTo, noun) {
  const pages = Math.max(1, Math.ceil(count / pageSize));
  return h('nav', { class: 'pager', 'aria-label': 'Pages of ' + noun },
    h('button', { type: 'button', class: 'secondary', disabled: pageNo <= 1, onclick: () => goTo(pageNo - 1) }, '‹ Previous'),
    h('span', {}, `Page ${pageNo} of ${pages} · ${count} ${count === 1 ? noun.replace(/s$/, '') : noun}`),
    h('button', { type: 'button', class: 'secondary', disabled: pageNo >= pages, onclick: () => goTo(pageNo + 1) }, 'Next ›'));
}

// metadata shows a map of strings as key=value chips.
export function metadata(md) {
  const keys = Object.keys(md || {}).sort();
  if (!keys.length) return h('span', { class: 'muted' }, '—');
  return h('span', { class: 'chips' }, keys.map((k) => h('code', { class: 'chip' }, k + '=' + md[k])));
}

// parseMetadata reads "key=value" lines (or a JSON object) into the JSON
// the API takes; an empty text is an empty map.
export function parseMetadata(text) {
  const t = (text || '').trim();
  if (!t) return '{}';
  if (t.startsWith('{')) {
    try {
      JSON.parse(t);
    } catch (e) {
      throw new Error('Metadata is not valid JSON: ' + e.message);
    }
    return t;
  }
  const out = {};
  for (const line of t.split(/\n|,/)) {
    const l = line.trim();
    if (!l) continue;
    const i = l.indexOf('=');
    if (i <= 0) throw new Error('Metadata line "' + l + '" is not key=value');
    out[l.slice(0, i).trim()] = l.slice(i + 1).trim();
  }
  return JSON.stringify(out);
}

// metadataText is the editable form of a map: one key=value a line.
export function metadataText(md) {
  return Object.keys(md || {}).sort().map((k) => k + '=' + md[k]).join('\n');
}

// ago says how long ago a Unix-millisecond time was.
export function ago(ms) {
  if (!ms || ms <= 0) return 'never';
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return s + ' s ago';
  if (s < 3600) return Math.round(s / 60) + ' min ago';
  if (s < 86400) return Math.round(s / 3600) + ' h ago';
  return new Date(ms).toLocaleString();
}

// duration says a number of milliseconds in words.
export function duration(ms) {
  if (ms < 0) return 'never';
  if (ms < 1000) return ms + ' ms';
  if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
  return Math.round(ms / 60000) + ' min';
}

// section is a titled part of a page.
export function section(title, ...children) {
  return h('section', { class: 'card' }, h('h2', {}, title), children);
}

// pageHead is a page's title with its actions on the right.
export function pageHead(title, ...actions) {
  return h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, title), h('div', { class: 'actions' }, actions));
}

// fill replaces an element's children (arrays flattened, null skipped).
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
}
