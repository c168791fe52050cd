// Users, roles and permissions (administrators only; the node checks).
import { api } from '../api.js';
import { fill, h, pageHead, table, dialog, confirmAction, button, toast, pager } from '../ui.js';

const PAGE = 50;

async function page(path, params) {
  const no = Math.max(1, parseInt(params.get('page') || '1', 10) || 1);
  const res = await api('GET', path, { pageNo: no, pageSize: PAGE });
  return { no, items: res.pageItems || [], total: res.totalCount || 0 };
}

function after(ctx, msg) {
  return (okd) => { if (okd) { toast(msg); ctx.refresh(); } };
}

export async function users(main, params, ctx) {
  const p = await page('/nacos/v1/auth/users', params);
  const create = () => dialog({
    title: 'Create a user',
    fields: [
      { name: 'username', label: 'Username', required: true },
      { name: 'password', label: 'Password', type: 'password', required: true, autocomplete: 'new-password' },
    ],
    submit: 'Create',
    onSubmit: (v) => api('POST', '/nacos/v1/auth/users', v),
  }).then(after(ctx, 'User created'));
  const passwd = (u) => dialog({
    title: 'New password for ' + u.username,
    fields: [{ name: 'newPassword', label: 'New password', type: 'password', required: true, autocomplete: 'new-password' }],
    onSubmit: (v) => api('PUT', '/nacos/v1/auth/users', { username: u.username, newPassword: v.newPassword }),
  }).then(after(ctx, 'Password changed'));
  const del = (u) => confirmAction('Delete user ' + u.username + '?', 'Its tokens stop working at once.', 'Delete',
    () => api('DELETE', '/nacos/v1/auth/users', { username: u.username })).then(after(ctx, 'User deleted'));
  fill(main, 
    pageHead('Users', button('Create user', create, 'primary')),
    table('Users', [
      { title: 'Username', cell: (u) => u.username },
      { title: 'Actions', class: 'actions', cell: (u) => [
        button('Change password', () => passwd(u), 'secondary', { 'aria-label': 'Change password of ' + u.username }),
        button('Delete', () => del(u), 'danger', { 'aria-label': 'Delete user ' + u.username })] },
    ], p.items, 'No users.'),
    pager(p.no, PAGE, p.total, (n) => ctx.go('users', { page: n }), 'users'));
}

export async function roles(main, params, ctx) {
  const p = await page('/nacos/v1/auth/roles', params);
  const add = () => dialog({
    title: 'Give a user a role',
    fields: [
      { name: 'role', label: 'Role', required: true, help: 'ROLE_ADMIN makes an administrator.' },
      { name: 'username', label: 'Username', required: true },
    ],
    submit: 'Add',
    onSubmit: (v) => api('POST', '/nacos/v1/auth/roles', v),
  }).then(after(ctx, 'Role given'));
  const del = (r) => confirmAction('Take role ' + r.role + ' from ' + r.username + '?', '', 'Remove',
    () => api('DELETE', '/nacos/v1/auth/roles', { role: r.role, username: r.username })).then(after(ctx, 'Role removed'));
  fill(main, 
    pageHead('Roles', button('Add role', add, 'primary')),
    table('Roles', [
      { title: 'Role', cell: (r) => r.role },
      { title: 'Username', cell: (r) => r.username },
      { title: 'Actions', class: 'actions', cell: (r) => button('Remove', () => del(r), 'danger', { 'aria-label': 'Remove role ' + r.role + ' of ' + r.username }) },
    ], p.items, 'No roles.'),
    pager(p.no, PAGE, p.total, (n) => ctx.go('roles', { page: n }), 'roles'));
}

export async function permissions(main, params, ctx) {
  const p = await page('/nacos/v1/auth/permissions', params);
  const add = () => dialog({
    title: 'Add a permission',
    fields: [
      { name: 'role', label: 'Role', required: true },
      { name: 'resource', label: 'Namespace', required: true, help: 'A namespace ID (public for the default), or * for every namespace.' },
      { name: 'action', label: 'Action', type: 'select', value: 'r', options: [['r', 'read'], ['w', 'write'], ['rw', 'read and write']] },
    ],
    submit: 'Add',
    onSubmit: (v) => api('POST', '/nacos/v1/auth/permissions', v),
  }).then(after(ctx, 'Permission added'));
  const del = (x) => confirmAction('Remove ' + x.action + ' on ' + x.resource + ' from ' + x.role + '?', '', 'Remove',
    () => api('DELETE', '/nacos/v1/auth/permissions', { role: x.role, resource: x.resource, action: x.action })).then(after(ctx, 'Permission removed'));
  fill(main, 
    pageHead('Permissions', button('Add permission', add, 'primary')),
    table('Permissions', [
      { title: 'Role', cell: (x) => x.role },
      { title: 'Namespace', cell: (x) => h('code', {}, x.resource) },
      { title: 'Action', cell: (x) => ({ r: 'read', w: 'write', rw: 'read and write' }[x.action] || x.action) },
      { title: 'Actions', class: 'actions', cell: (x) => button('Remove', () => del(x), 'danger') },
    ], p.items, 'No permissions.'),
    pager(p.no, PAGE, p.total, (n) => ctx.go('permissions', { page: n }), 'permissions'));
}
