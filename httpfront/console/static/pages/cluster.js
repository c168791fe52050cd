// The cluster: members, Raft and Distro ownership as this node sees them.
import { api } from '../api.js';
import { fill, h, pageHead, section, table, badge, ago, duration, button } from '../ui.js';

function stateBadge(s) {
  return badge(s, s === 'UP' ? 'ok' : s === 'SUSPICIOUS' || s === 'STARTING' ? 'warn' : 'bad');
}

export async function render(main, params, ctx) {
  const draw = async () => {
    const v = await api('GET', '/nacos/v1/console/cluster');
    const r = v.raft || {};
    const raftRows = r.role ? h('dl', { class: 'facts', id: 'raft-facts' },
      h('dt', {}, 'Role of this node'), h('dd', {}, r.role),
      h('dt', {}, 'Term'), h('dd', { id: 'raft-term' }, String(r.term)),
      h('dt', {}, 'Leader'), h('dd', {}, v.leader || 'none known'),
      h('dt', {}, 'Last contact with the leader'), h('dd', {}, r.lastContact === 0 ? 'this node leads' : duration(r.lastContact) + (r.lastContact >= 0 ? ' ago' : '')),
      h('dt', {}, 'Commit / applied index'), h('dd', {}, r.commitIndex + ' / ' + r.appliedIndex))
      : h('p', { class: 'muted' }, 'This node runs alone (standalone): no Raft.');
    fill(main, 
      pageHead('Cluster', button('Refresh', draw)),
      section('Members (' + v.members.length + ')',
        table('Cluster members', [
          { title: 'Member', cell: (m) => [h('code', {}, m.address), m.self ? badge('this node', 'muted') : null] },
          { title: 'State', cell: (m) => stateBadge(m.state) },
          { title: 'Raft role', cell: (m) => m.raftRole || '—' },
          { title: 'Term', cell: (m) => (m.self && r.role ? String(r.term) : '—') },
          { title: 'Last report', cell: (m) => (m.self ? 'now' : ago(m.lastSeen)) },
          { title: 'Failed reports', cell: (m) => String(m.failAccessCnt || 0), class: 'num' },
          { title: 'Owns services', cell: (m) => String(m.services), class: 'num' },
          { title: 'Owns instances', cell: (m) => String(m.instances), class: 'num' },
        ], v.members, 'No members.', 'members'),
        h('p', { class: 'muted' }, 'Ownership is Distro\u2019s: the member that checks beats of a service\u2019s ephemeral instances. Terms of other members are shown on their own consoles.')),
      section('Raft (CP data)', raftRows),
      section('gRPC clients of this node (' + v.grpcClients.length + ')',
        v.grpc ? table('Nacos 2.x clients connected to this node', [
          { title: 'Connection', cell: (c) => h('code', {}, c.connectionId) },
          { title: 'From', cell: (c) => h('code', {}, c.remote) },
          { title: 'Client', cell: (c) => c.clientVersion || '—' },
          { title: 'App', cell: (c) => c.app || '—' },
          { title: 'Instances', cell: (c) => String(c.instances), class: 'num' },
          { title: 'Subscriptions', cell: (c) => String(c.subscriptions), class: 'num' },
          { title: 'Last heard', cell: (c) => duration(c.idleMillis) + ' ago' },
        ], v.grpcClients, 'No gRPC client is connected to this node.', 'grpc-clients')
          : h('p', { class: 'muted' }, 'This node serves no gRPC (grpc-addr is off).'),
        h('p', { class: 'muted' }, 'Each member lists the clients connected to it; `sextant members` counts them for every member.')));
  };
  await draw();
  ctx.every(5000, () => draw().catch(() => {}));
}
