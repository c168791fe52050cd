// The login page: username and password to /nacos/v1/auth/users/login.
import { api, session } from '../api.js';
import { h } from '../ui.js';

export async function render(main, params, ctx) {
  if (ctx.authOn === false) {
    main.replaceChildren(h('h1', { tabindex: '-1' }, 'No login needed'),
      h('p', {}, 'This node does not ask for a login (auth is off).'), h('p', {}, h('a', { href: '#/overview' }, 'Go to the overview')));
    return;
  }
  const err = h('div', { class: 'dialog-error', role: 'alert', id: 'login-error' });
  if (params.get('why')) err.textContent = 'Please log in again: ' + params.get('why');
  const info = params.get('bye') ? h('p', { class: 'notice', role: 'status' }, 'You are logged out.') : null;
  const form = h('form', { class: 'card login', id: 'login-form' },
    h('h1', { tabindex: '-1' }, 'Log in to Sextant'),
    info,
    h('div', { class: 'field' }, h('label', { for: 'username' }, 'Username'),
      h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true, autofocus: true })),
    h('div', { class: 'field' }, h('label', { for: 'password' }, 'Password'),
      h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    err,
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary', id: 'login-submit' }, 'Log in')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    const btn = form.querySelector('button');
    btn.disabled = true;
    try {
      const res = await api('POST', '/nacos/v1/auth/users/login', {
        username: form.elements.username.value, password: form.elements.password.value,
      });
      session.save(res);
      ctx.loggedIn();
      const next = params.get('next');
      if (next && next.startsWith('#/') && !next.startsWith('#/login')) location.hash = next;
      else ctx.go('overview');
    } catch (x) {
      err.textContent = x.status === 403 ? 'Wrong username or password (' + x.message + ').' : x.message;
      btn.disabled = false;
      form.elements.password.select();
    }
  });
  main.replaceChildren(form);
  form.elements.username.focus();
}
