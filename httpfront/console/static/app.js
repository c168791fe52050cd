// app.js: the console's frame: login state, navigation, the namespace in
// use and the page router (pages are chosen by the URL fragment).
import { api, session, probeAuth, ApiError } from './api.js';
import { h, href, errorBox, toast } from './ui.js';
import * as overview from './pages/overview.js';
import * as services from './pages/services.js';
import * as service from './pages/service.js';
import * as namespaces from './pages/namespaces.js';
import * as cluster from './pages/cluster.js';
import * as access from './pages/access.js';
import * as login from './pages/login.js';

const pages = {
  overview: { title: 'Overview', render: overview.render },
  services: { title: 'Services', render: services.render },
  service: { title: 'Service', render: service.render, nav: 'services' },
  namespaces: { title: 'Namespaces', render: namespaces.render },
  cluster: { title: 'Cluster', render: cluster.render },
  users: { title: 'Users', render: access.users, admin: true },
  roles: { title: 'Roles', render: access.roles, admin: true },
  permissions: { title: 'Permissions', render: access.permissions, admin: true },
  login: { title: 'Log in', render: login.render, open: true },
};

// state shared by the pages.
const state = {
  authOn: null, // unknown until probed
  timers: [],
  seq: 0,
};

// ctx is what a page is given.
function context(params) {
  return {
    get authOn() { return state.authOn; },
    // ns is the namespace in use: the page's ns parameter, else the last one chosen.
    ns: params.get('ns') ?? (window.sessionStorage.getItem('sextant.ns') || ''),
    go,
    refresh: render,
    every(ms, fn) { state.timers.push(setInterval(fn, ms)); },
    loggedIn() {
      state.authOn = true;
      drawSession();
    },
  };
}

// go shows a page.
export function go(page, params = {}) {
  const target = href(page, params);
  if (location.hash === target) render();
  else location.hash = target;
}

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const i = raw.indexOf('?');
  const name = i < 0 ? raw : raw.slice(0, i);
  return { name: name || 'overview', params: new URLSearchParams(i < 0 ? '' : raw.slice(i + 1)) };
}

function drawNav(current) {
  const nav = document.getElementById('nav');
  nav.replaceChildren();
  if (state.authOn && !session.token) return;
  const items = ['overview', 'services', 'namespaces', 'cluster'];
  if (state.authOn && session.admin) items.push('users', 'roles', 'permissions');
  nav.append(h('ul', {}, items.map((p) => h('li', {}, h('a', {
    href: '#/' + p, 'aria-current': p === current ? 'page' : undefined,
  }, pages[p].title)))));
}

async function drawSession() {
  const box = document.getElementById('session');
  box.replaceChildren();
  if (state.authOn && !session.token) return;
  const sel = h('select', { id: 'ns-select', 'aria-label': 'Namespace' });
  box.append(h('label', { for: 'ns-select', class: 'sr' }, 'Namespace'), sel);
  sel.addEventListener('change', () => {
    window.sessionStorage.setItem('sextant.ns', sel.value);
    const { name, params } = parseHash();
    const target = pages[name] && ['services', 'overview'].includes(name) ? name : 'services';
    params.set('ns', sel.value);
    params.delete('page');
    go(target, Object.fromEntries(params));
  });
  if (state.authOn) {
    box.append(h('span', { class: 'user' }, session.user + (session.admin ? ' (admin)' : '')),
      h('button', { type: 'button', class: 'secondary', id: 'logout', onclick: logout }, 'Log out'));
  } else {
    box.append(h('span', { class: 'user muted', title: 'The node does not ask for a login' }, 'auth off'));
  }
  try {
    const res = await api('GET', '/nacos/v1/console/namespaces');
    const current = parseHash().params.get('ns') ?? (window.sessionStorage.getItem('sextant.ns') || '');
    for (const n of res.data || []) {
      sel.append(h('option', { value: n.namespace, selected: n.namespace === current },
        (n.namespaceShowName || n.namespace || 'public') + (n.namespace ? '' : ' (public)')));
    }
  } catch (e) {
    sel.append(h('option', { value: '' }, 'public'));
  }
}

function logout() {
  session.clear();
  state.authOn = true;
  drawSession();
  go('login', { bye: '1' });
}

// render draws the page the fragment names.
async function render() {
  for (const t of state.timers) clearInterval(t);
  state.timers = [];
  const seq = ++state.seq;
  const main = document.getElementById('main');
  let { name, params } = parseHash();
  if (state.authOn === null) {
    try {
      state.authOn = session.token ? true : await probeAuth();
    } catch (e) {
      main.replaceChildren(errorBox(e, 'The node did not answer'));
      return;
    }
    drawSession();
  }
  let page = pages[name];
  if (!page) {
    main.replaceChildren(h('h1', {}, 'No such page'), h('p', {}, 'The console has no page "' + name + '". '),
      h('p', {}, h('a', { href: '#/overview' }, 'Go to the overview')));
    return;
  }
  if (state.authOn && !session.token && !page.open) {
    params = new URLSearchParams({ next: location.hash });
    name = 'login';
    page = pages.login;
  }
  document.title = page.title + ' · Sextant console';
  drawNav(page.nav || name);
  const body = h('div', { class: 'page' }, h('p', { class: 'muted' }, 'Loading…'));
  main.replaceChildren(body);
  try {
    await page.render(body, params, context(params));
  } catch (e) {
    if (seq !== state.seq) return;
    if (e instanceof ApiError && e.needsLogin) {
      session.clear();
      state.authOn = true;
      drawSession();
      go('login', { why: e.message, next: location.hash });
      return;
    }
    body.replaceChildren(h('h1', {}, page.title), errorBox(e, 'This page could not be shown'));
  }
  if (seq !== state.seq) return;
  const heading = main.querySelector('h1');
  if (heading && document.activeElement === document.body) heading.focus({ preventScroll: true });
}

document.documentElement.setAttribute('data-started', '1');
window.addEventListener('hashchange', render);
window.addEventListener('unhandledrejection', (e) => toast('Error: ' + ((e.reason && e.reason.message) || e.reason)));
render();
