// Service detail: settings, DNS names, clusters with their health checks,
// instances and subscribers.
import { api } from '../api.js';
import {
  fill, h, pageHead, section, table, badge, yesNo, button, dialog, confirmAction, toast, metadata, metadataText,
  parseMetadata, ago, pager, link,
} from '../ui.js';
import { editService, deleteService } from './services.js';

const INSTANCES_PER_PAGE = 50;

// dnsLabelOK: a value the DNS scheme can carry in one label.
function dnsLabelOK(v) {
  return /^[A-Za-z0-9_-]{1,63}$/.test(v);
}

// dnsNames are the names answering for a service (and one cluster of it),
// in the scheme of the DNS front: defaults (DEFAULT_GROUP, public) left out.
export function dnsNames(zone, ns, group, name, cluster) {
  let rest = 'service';
  const problems = [];
  if (group && group !== 'DEFAULT_GROUP') {
    rest += '.' + group + '.group';
    if (!dnsLabelOK(group)) problems.push('group');
  }
  if (ns && ns !== 'public') {
    rest += '.' + ns + '.ns';
    if (!dnsLabelOK(ns)) problems.push('namespace');
  }
  if (cluster) {
    rest += '.' + cluster + '.cluster';
    if (!dnsLabelOK(cluster)) problems.push('cluster');
  }
  if (name.split('.').some((l) => !l || l.length > 63 || /\s/.test(l))) problems.push('service name');
  return { a: name + '.' + rest + '.' + zone, srv: '_' + name + '._tcp.' + rest + '.' + zone, problems };
}

// digCommand asks the node's DNS front for a name.
export function digCommand(dns, name, type) {
  let host = location.hostname;
  let port = '53';
  const m = /^(.*):(\d+)$/.exec(dns.addr || '');
  if (m) {
    port = m[2];
    const hh = m[1].replace(/^\[|\]$/g, '');
    if (hh && hh !== '0.0.0.0' && hh !== '::') host = hh;
  }
  return 'dig @' + host.replace(/^\[|\]$/g, '') + (port === '53' ? '' : ' -p ' + port) + ' ' + name + ' ' + type + ' +short';
}

async function copy(text, input) {
  try {
    await navigator.clipboard.writeText(text);
  } catch (_) {
    input.select();
    document.execCommand('copy');
  }
  toast('Copied: ' + text);
}

function dnsSection(dns, ns, group, name, clusters) {
  if (!dns.zone) return section('DNS', h('p', { class: 'muted' }, 'This node does not tell its DNS zone.'));
  const rows = [];
  const add = (scope, cluster) => {
    const n = dnsNames(dns.zone, ns, group, name, cluster);
    rows.push({ scope, type: 'A', name: n.a, problems: n.problems });
    rows.push({ scope, type: 'SRV', name: n.srv, problems: n.problems });
  };
  add('all clusters', '');
  for (const c of clusters) add('cluster ' + c.name, c.name);
  return section('DNS names',
    h('p', { class: 'muted' }, 'Answers hold the instances that are healthy, enabled and of weight above 0 (every enabled one while the protect threshold is reached).'),
    table('DNS names of the service', [
      { title: 'Scope', cell: (r) => r.scope },
      { title: 'Type', cell: (r) => r.type },
      { title: 'Name and command', cell: (r) => {
        if (r.problems.length) return h('span', { class: 'muted' }, 'Not reachable by DNS: the ' + r.problems.join(', ') + ' is not a single DNS label.');
        const cmd = digCommand(dns, r.name, r.type);
        const input = h('input', { value: cmd, readonly: true, class: 'cmd', 'aria-label': r.type + ' lookup for ' + r.scope, size: Math.min(cmd.length, 80) });
        return h('div', { class: 'copyline' }, input, button('Copy', () => copy(cmd, input), 'secondary', { 'aria-label': 'Copy ' + r.type + ' command for ' + r.scope }));
      } },
    ], rows, '', 'dns'));
}

function checkerText(c) {
  const hc = c.healthChecker || { type: 'TCP' };
  const parts = [hc.type || 'TCP'];
  if (hc.type === 'HTTP') parts.push('path ' + (hc.path || '/'), 'codes ' + (hc.expectedResponseCode || '200'));
  if (hc.type !== 'NONE') {
    parts.push(c.useIPPort4Check ? 'instance port' : 'port ' + c.defaultCheckPort);
    if (c.checkInterval) parts.push('every ' + c.checkInterval + ' ms');
    if (c.checkTimeout) parts.push('timeout ' + c.checkTimeout + ' ms');
    if (c.unhealthyThreshold) parts.push(c.unhealthyThreshold + ' failures to unhealthy');
    if (c.healthyThreshold) parts.push(c.healthyThreshold + ' passes to healthy');
  }
  return parts.join(' · ');
}

function editCluster(key, c) {
  const hc = c.healthChecker || { type: 'TCP' };
  return dialog({
    title: 'Health check of cluster ' + c.name,
    fields: [
      { name: 'type', label: 'Checker', type: 'select', value: hc.type || 'TCP',
        options: [['TCP', 'TCP (connect)'], ['HTTP', 'HTTP (GET)'], ['NONE', 'NONE (health set through the API)']] },
      { name: 'path', label: 'HTTP path', value: hc.path || '', placeholder: '/health' },
      { name: 'headers', label: 'HTTP headers', value: hc.headers || '', placeholder: 'Name:value|Other:value' },
      { name: 'expectedResponseCode', label: 'Expected HTTP codes', value: hc.expectedResponseCode || '', placeholder: '200 or 2xx or 200-299' },
      { name: 'checkPort', label: 'Check port', type: 'number', min: 0, max: 65535, value: c.defaultCheckPort },
      { name: 'useInstancePort4Check', label: 'Check the instance\u2019s own port', type: 'checkbox', value: c.useIPPort4Check },
      { name: 'checkInterval', label: 'Interval (ms)', type: 'number', min: 0, value: c.checkInterval || '', help: 'Empty keeps the current value; 0 inherits the node default.' },
      { name: 'checkTimeout', label: 'Timeout (ms)', type: 'number', min: 0, value: c.checkTimeout || '' },
      { name: 'unhealthyThreshold', label: 'Failures before unhealthy', type: 'number', min: 0, value: c.unhealthyThreshold || '' },
      { name: 'healthyThreshold', label: 'Passes before healthy', type: 'number', min: 0, value: c.healthyThreshold || '' },
      { name: 'metadata', label: 'Cluster metadata', type: 'textarea', rows: 2, value: metadataText(c.metadata) },
    ],
    onSubmit: (v) => {
      const checker = { type: v.type };
      if (v.type === 'HTTP') Object.assign(checker, { path: v.path, headers: v.headers, expectedResponseCode: v.expectedResponseCode });
      return api('PUT', '/nacos/v1/ns/cluster', {
        ...key, clusterName: c.name, healthChecker: JSON.stringify(checker),
        checkPort: v.checkPort || undefined, useInstancePort4Check: v.useInstancePort4Check,
        checkInterval: v.checkInterval || undefined, checkTimeout: v.checkTimeout || undefined,
        unhealthyThreshold: v.unhealthyThreshold || undefined, healthyThreshold: v.healthyThreshold || undefined,
        metadata: parseMetadata(v.metadata),
      });
    },
  });
}

function lastCheck(inst, detail) {
  if (inst.ephemeral) return h('span', { class: 'muted' }, 'beat ' + ago(inst.lastBeat));
  const lc = detail && detail.lastCheck;
  if (!lc) return h('span', { class: 'muted' }, 'not probed yet');
  return h('span', {}, lc.ok ? badge('passed', 'ok') : badge('failed', 'bad'), ' ', ago(lc.time), lc.reason ? ' · ' + lc.reason : '');
}

function instanceTable(key, cluster, page, details, reload) {
  const target = (i) => ({ ...key, ip: i.ip, port: i.port, clusterName: i.clusterName, ephemeral: i.ephemeral });
  const edit = (i) => dialog({
    title: 'Edit instance ' + i.ip + ':' + i.port,
    fields: [
      { name: 'weight', label: 'Weight', type: 'number', min: 0, max: 10000, step: 'any', value: i.weight, required: true,
        help: '0 to 10000; 0 sends no traffic.' },
      { name: 'metadata', label: 'Metadata', type: 'textarea', value: metadataText(i.metadata), placeholder: 'key=value, one a line' },
    ],
    onSubmit: (v) => api('PATCH', '/nacos/v1/ns/instance', { ...target(i), weight: v.weight, metadata: parseMetadata(v.metadata) }),
  }).then((okd) => { if (okd) { toast('Instance saved'); reload(); } });
  const setEnabled = async (i, on) => {
    await api('PATCH', '/nacos/v1/ns/instance', { ...target(i), enabled: on });
    toast(i.ip + ':' + i.port + (on ? ' is online' : ' is offline'));
    reload();
  };
  const dereg = (i) => confirmAction('Deregister ' + i.ip + ':' + i.port + '?',
    i.ephemeral ? 'A client that still beats registers it again.' : 'The persistent instance is removed.', 'Deregister',
    () => api('DELETE', '/nacos/v1/ns/instance', target(i))).then((okd) => { if (okd) { toast('Instance deregistered'); reload(); } });
  return table('Instances of cluster ' + cluster, [
    { title: 'Address', cell: (i) => h('code', {}, i.ip + ':' + i.port) },
    { title: 'Weight', class: 'num', cell: (i) => String(i.weight) },
    { title: 'Healthy', cell: (i) => yesNo(i.healthy, 'healthy', 'unhealthy') },
    { title: 'Enabled', cell: (i) => yesNo(i.enabled, 'online', 'offline', 'warn') },
    { title: 'Ephemeral', cell: (i) => (i.ephemeral ? 'ephemeral' : 'persistent') },
    { title: 'Metadata', cell: (i) => metadata(i.metadata) },
    { title: 'Last check', cell: (i) => lastCheck(i, details[i.ip + ':' + i.port]) },
    { title: 'Actions', class: 'actions', cell: (i) => [
      button('Edit', () => edit(i), 'secondary', { 'aria-label': 'Edit ' + i.ip + ':' + i.port }),
      i.enabled
        ? button('Offline', () => setEnabled(i, false), 'secondary', { 'aria-label': 'Take ' + i.ip + ':' + i.port + ' offline', 'data-action': 'offline' })
        : button('Online', () => setEnabled(i, true), 'secondary', { 'aria-label': 'Bring ' + i.ip + ':' + i.port + ' online', 'data-action': 'online' }),
      button('Deregister', () => dereg(i), 'danger', { 'aria-label': 'Deregister ' + i.ip + ':' + i.port })] },
  ], page.list || [], 'No instances in this cluster.', 'instances');
}

export async function render(main, params, ctx) {
  const ns = params.get('ns') ?? ctx.ns;
  const group = params.get('group') || 'DEFAULT_GROUP';
  const name = params.get('name') || '';
  const key = { namespaceId: ns, groupName: group, serviceName: name };
  const [detail, dns, subs] = await Promise.all([
    api('GET', '/nacos/v1/ns/catalog/service', key),
    api('GET', '/nacos/v1/console/dns').catch(() => ({})),
    api('GET', '/nacos/v1/ns/service/subscribers', { ...key, pageNo: 1, pageSize: 100 }).catch((e) => ({ error: e })),
  ]);
  const svc = detail.service;
  const clusters = detail.clusters || [];
  const here = Object.fromEntries(params);
  const pages = await Promise.all(clusters.map((c) => {
    const no = Math.max(1, parseInt(params.get('p-' + c.name) || '1', 10) || 1);
    return api('GET', '/nacos/v1/ns/catalog/instances', { ...key, clusterName: c.name, pageNo: no, pageSize: INSTANCES_PER_PAGE })
      .then((p) => ({ ...p, no }));
  }));
  // The last probe of each persistent instance shown, from GET /instance.
  const details = {};
  await Promise.all(pages.flatMap((p) => (p.list || []).filter((i) => !i.ephemeral).map((i) =>
    api('GET', '/nacos/v1/ns/instance', { ...key, ip: i.ip, port: i.port, clusterName: i.clusterName })
      .then((d) => { details[i.ip + ':' + i.port] = d; }, () => {}))));
  const reload = () => ctx.refresh();
  const clusterCards = clusters.map((c, idx) => h('section', { class: 'card cluster', 'data-cluster': c.name },
    h('div', { class: 'page-head' }, h('h2', {}, 'Cluster ' + c.name),
      h('div', { class: 'actions' }, button('Edit health check', () => editCluster(key, c).then((okd) => {
        if (okd) { toast('Cluster ' + c.name + ' saved'); reload(); }
      }), 'secondary', { 'aria-label': 'Edit health check of cluster ' + c.name }))),
    h('p', { class: 'checker' }, 'Health check: ', h('strong', {}, checkerText(c))),
    Object.keys(c.metadata || {}).length ? h('p', {}, 'Metadata: ', metadata(c.metadata)) : null,
    instanceTable(key, c.name, pages[idx], details, reload),
    pages[idx].count > INSTANCES_PER_PAGE
      ? pager(pages[idx].no, INSTANCES_PER_PAGE, pages[idx].count, (p) => ctx.go('service', { ...here, ['p-' + c.name]: p }), 'instances')
      : null));
  const sel = svc.selector || { type: 'none' };
  fill(main, 
    h('p', { class: 'crumbs' }, link('services', { ns }, 'Services'), ' › ', group),
    pageHead(name,
      button('Edit service', () => editService(ns, group, name).then((okd) => { if (okd) { toast('Service saved'); reload(); } }), 'secondary', { id: 'svc-edit' }),
      button('Delete service', () => deleteService(ns, group, name).then((okd) => { if (okd) { toast('Service deleted'); ctx.go('services', { ns }); } }), 'danger')),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Namespace'), h('dd', {}, h('code', {}, ns || 'public')),
      h('dt', {}, 'Group'), h('dd', {}, group),
      h('dt', {}, 'Protect threshold'), h('dd', {}, String(svc.protectThreshold)),
      h('dt', {}, 'Selector'), h('dd', {}, sel.type + (sel.expression ? ' ' + sel.expression : '')),
      h('dt', {}, 'Metadata'), h('dd', {}, metadata(svc.metadata))),
    ...(clusterCards.length ? clusterCards : [section('Clusters', h('p', { class: 'muted' }, 'No clusters: the service has no instances and no cluster settings.'))]),
    dnsSection(dns, ns, group, name, clusters),
    section('Subscribers', subs.error
      ? h('p', { class: 'error' }, 'Subscribers could not be read: ' + subs.error.message)
      : table('Subscribers', [
        { title: 'Address', cell: (s) => h('code', {}, s.addrStr) },
        { title: 'Client', cell: (s) => s.agent || '—' },
        { title: 'App', cell: (s) => s.app || '—' },
        { title: 'Clusters', cell: (s) => s.cluster || 'all' },
      ], subs.subscribers || [], 'No client subscribes to pushes of this service on this node.', 'subscribers')));
  performance.mark('sextant:service-rendered');
}
