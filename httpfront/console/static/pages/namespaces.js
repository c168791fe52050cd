// Namespaces: list, create, edit, delete (the node refuses to delete one
// that still holds services).
import { api } from '../api.js';
import { fill, h, pageHead, table, dialog, confirmAction, button, link, toast } from '../ui.js';

export async function render(main, params, ctx) {
  const res = await api('GET', '/nacos/v1/console/namespaces');
  const list = res.data || [];
  // Services per namespace, from one small page of each (skipped where the
  // user may not read).
  const counts = await Promise.all(list.map((n) => api('GET', '/nacos/v1/ns/catalog/services',
    { namespaceId: n.namespace, pageNo: 1, pageSize: 1 }).then((r) => r.count, () => null)));
  const create = () => dialog({
    title: 'Create a namespace',
    fields: [
      { name: 'customNamespaceId', label: 'ID', help: 'Leave empty for a generated one. Clients name it as namespaceId.' },
      { name: 'namespaceName', label: 'Name', required: true },
      { name: 'namespaceDesc', label: 'Description', type: 'textarea', rows: 2 },
    ],
    submit: 'Create',
    onSubmit: (v) => api('POST', '/nacos/v1/console/namespaces', v),
  }).then((okd) => { if (okd) { toast('Namespace created'); ctx.refresh(); } });
  const edit = (n) => dialog({
    title: 'Edit namespace ' + n.namespace,
    fields: [
      { name: 'namespaceShowName', label: 'Name', value: n.namespaceShowName, required: true },
      { name: 'namespaceDesc', label: 'Description', type: 'textarea', rows: 2, value: n.namespaceDesc },
    ],
    onSubmit: (v) => api('PUT', '/nacos/v1/console/namespaces', { namespace: n.namespace, ...v }),
  }).then((okd) => { if (okd) { toast('Namespace saved'); ctx.refresh(); } });
  const del = (n) => confirmAction('Delete namespace ' + n.namespace + '?',
    'The node refuses while the namespace holds services.', 'Delete',
    () => api('DELETE', '/nacos/v1/console/namespaces', { namespaceId: n.namespace }))
    .then((okd) => { if (okd) { toast('Namespace deleted'); ctx.refresh(); } });
  fill(main, 
    pageHead('Namespaces', button('Create namespace', create, 'primary', { id: 'ns-create' })),
    table('Namespaces', [
      { title: 'Name', cell: (n) => n.namespaceShowName || 'public' },
      { title: 'ID', cell: (n) => h('code', {}, n.namespace || 'public') },
      { title: 'Description', cell: (n) => n.namespaceDesc || '' },
      { title: 'Services', class: 'num', cell: (n) => {
        const c = counts[list.indexOf(n)];
        return c === null ? '—' : link('services', { ns: n.namespace }, String(c));
      } },
      { title: 'Actions', class: 'actions', cell: (n) => (n.type === 0 ? h('span', { class: 'muted' }, 'built in') : [
        button('Edit', () => edit(n), 'secondary', { 'aria-label': 'Edit namespace ' + n.namespace }),
        button('Delete', () => del(n), 'danger', { 'aria-label': 'Delete namespace ' + n.namespace })]) },
    ], list, 'No namespaces.', 'namespaces'));
}
