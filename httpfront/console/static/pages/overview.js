// The overview: this node's figures now and over the last hour.
import { api } from '../api.js';
import { fill, h, pageHead, section, badge } from '../ui.js';
import { lineChart } from '../chart.js';

export async function render(main, params, ctx) {
  const draw = async () => {
    const [m, hist] = await Promise.all([
      api('GET', '/nacos/v1/ns/operator/metrics'),
      api('GET', '/nacos/v1/console/history'),
    ]);
    const samples = hist.samples || [];
    const stat = (label, value, id) => h('div', { class: 'stat', id }, h('span', { class: 'value' }, String(value)), h('span', { class: 'label' }, label));
    fill(main, 
      pageHead('Overview', badge('node ' + m.status, m.status === 'UP' ? 'ok' : 'bad')),
      h('div', { class: 'stats' },
        stat('services', m.serviceCount, 'stat-services'),
        stat('instances', m.instanceCount, 'stat-instances'),
        stat('this node is responsible for', m.responsibleInstanceCount + ' instances', 'stat-own'),
        stat('push subscribers', m.subscribeCount, 'stat-subs')),
      section('The last hour on this node',
        h('div', { class: 'charts' },
          lineChart('Instances', samples, [
            { label: 'all', key: 'instances', cls: 's1' },
            { label: 'healthy', key: 'healthy', cls: 's2' }]),
          lineChart('Registrations per second', samples, [{ label: 'now', key: 'registrations', cls: 's3' }], '/s'),
          lineChart('Beats per second', samples, [{ label: 'now', key: 'beats', cls: 's4' }], '/s'),
          lineChart('DNS queries per second', samples, [{ label: 'now', key: 'dnsQueries', cls: 's5' }], '/s')),
        h('p', { class: 'muted' }, samples.length + ' samples; counts of all namespaces, rates of what reached this node.')));
  };
  await draw();
  ctx.every(10000, () => draw().catch(() => {}));
}
