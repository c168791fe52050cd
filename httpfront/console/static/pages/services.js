// Services: a page of the namespace's services from the server, searched by
// name and group, with counts; create, edit and delete.
import { api } from '../api.js';
import { fill, h, pageHead, table, pager, link, badge, button, dialog, confirmAction, toast, parseMetadata, metadataText } from '../ui.js';

// serviceFields are the editable settings of a service.
export function serviceFields(svc = {}) {
  const sel = svc.selector || { type: 'none' };
  return [
    { name: 'protectThreshold', label: 'Protect threshold', type: 'number', min: 0, max: 1, step: 0.01,
      value: svc.protectThreshold ?? 0, help: 'Between 0 and 1. While the healthy share is below it, every enabled instance is served. 0 turns it off.' },
    { name: 'metadata', label: 'Metadata', type: 'textarea', value: metadataText(svc.metadata), placeholder: 'key=value, one a line' },
    { name: 'selectorType', label: 'Selector', type: 'select', value: sel.type, options: [['none', 'none'], ['label', 'label']] },
    { name: 'selectorExpression', label: 'Selector expression', value: sel.expression || '', help: 'For a label selector (kept, not applied).' },
  ];
}

// serviceParams turns the settings form into API parameters.
export function serviceParams(v) {
  const selector = { type: v.selectorType };
  if (v.selectorType === 'label') selector.expression = v.selectorExpression;
  return { protectThreshold: v.protectThreshold || '0', metadata: parseMetadata(v.metadata), selector: JSON.stringify(selector) };
}

export async function editService(ns, group, name) {
  const d = await api('GET', '/nacos/v1/ns/catalog/service', { namespaceId: ns, groupName: group, serviceName: name });
  return dialog({
    title: 'Edit service ' + name,
    fields: serviceFields(d.service),
    onSubmit: (v) => api('PUT', '/nacos/v1/ns/service', { namespaceId: ns, groupName: group, serviceName: name, ...serviceParams(v) }),
  });
}

export function deleteService(ns, group, name) {
  return confirmAction('Delete service ' + name + '?', 'Only a service without instances can be deleted.', 'Delete',
    () => api('DELETE', '/nacos/v1/ns/service', { namespaceId: ns, groupName: group, serviceName: name }));
}

export async function render(main, params, ctx) {
  const ns = ctx.ns;
  const pageNo = Math.max(1, parseInt(params.get('page') || '1', 10) || 1);
  const pageSize = [10, 20, 50, 100].includes(+params.get('size')) ? +params.get('size') : 20;
  const name = params.get('name') || '';
  const group = params.get('group') || '';
  const res = await api('GET', '/nacos/v1/ns/catalog/services', {
    namespaceId: ns, pageNo, pageSize, serviceNameParam: name, groupNameParam: group,
  });
  const here = (extra) => ({ ns, name, group, size: pageSize === 20 ? '' : pageSize, ...extra });
  const search = h('form', { class: 'search', role: 'search', id: 'service-search' },
    h('label', { for: 'q-name' }, 'Name'), h('input', { id: 'q-name', name: 'name', value: name, placeholder: 'part of the name' }),
    h('label', { for: 'q-group' }, 'Group'), h('input', { id: 'q-group', name: 'group', value: group, placeholder: 'part of the group' }),
    h('label', { for: 'q-size' }, 'Per page'), h('select', { id: 'q-size', name: 'size' },
      [10, 20, 50, 100].map((n) => h('option', { value: n, selected: n === pageSize }, String(n)))),
    h('button', { type: 'submit', class: 'primary' }, 'Search'));
  search.addEventListener('submit', (e) => {
    e.preventDefault();
    const f = search.elements;
    ctx.go('services', { ns, name: f.name.value.trim(), group: f.group.value.trim(), size: f.size.value === '20' ? '' : f.size.value });
  });
  const create = () => dialog({
    title: 'Create a service',
    fields: [
      { name: 'serviceName', label: 'Name', required: true },
      { name: 'groupName', label: 'Group', value: 'DEFAULT_GROUP', required: true },
      ...serviceFields(),
    ],
    submit: 'Create',
    onSubmit: (v) => api('POST', '/nacos/v1/ns/service', {
      namespaceId: ns, serviceName: v.serviceName, groupName: v.groupName, ...serviceParams(v),
    }),
  }).then((okd) => { if (okd) { toast('Service created'); ctx.refresh(); } });
  const detail = (s) => ({ ns, group: s.groupName, name: s.name });
  fill(main, 
    pageHead('Services', button('Create service', create, 'primary', { id: 'svc-create' })),
    h('p', { class: 'muted' }, 'Namespace ', h('code', {}, ns || 'public'), '.'),
    search,
    table('Services', [
      { title: 'Name', cell: (s) => link('service', detail(s), s.name, { class: 'svc-link' }) },
      { title: 'Group', cell: (s) => s.groupName },
      { title: 'Clusters', class: 'num', cell: (s) => String(s.clusterCount) },
      { title: 'Instances', class: 'num', cell: (s) => String(s.ipCount) },
      { title: 'Healthy', class: 'num', cell: (s) => String(s.healthyInstanceCount) },
      { title: 'Protect threshold', cell: (s) => (s.triggerFlag === 'true'
        ? badge('reached', 'warn', 'The healthy share is below the protect threshold: every enabled instance is served')
        : h('span', { class: 'muted' }, 'not reached')) },
      { title: 'Actions', class: 'actions', cell: (s) => [
        link('service', detail(s), 'Detail', { class: 'btn secondary' }),
        button('Edit', () => editService(ns, s.groupName, s.name).then((okd) => { if (okd) { toast('Service saved'); ctx.refresh(); } }),
          'secondary', { 'aria-label': 'Edit ' + s.name }),
        button('Delete', () => deleteService(ns, s.groupName, s.name).then((okd) => { if (okd) { toast('Service deleted'); ctx.refresh(); } }),
          'danger', { 'aria-label': 'Delete ' + s.name })] },
    ], res.serviceList || [], name || group ? 'No service matches.' : 'No services in this namespace.', 'services'),
    pager(pageNo, pageSize, res.count, (p) => ctx.go('services', here({ page: p })), 'services'));
  performance.mark('sextant:services-rendered');
}
