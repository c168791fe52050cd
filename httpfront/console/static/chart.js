// chart.js: small line charts in SVG for the overview.

const NS = 'http://www.w3.org/2000/svg';
const W = 320;
const H = 110;
const PAD = { l: 34, r: 6, t: 8, b: 18 };

function s(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

function fmt(v) {
  if (v >= 1e6) return (v / 1e6).toFixed(1) + 'M';
  if (v >= 1e4) return Math.round(v / 1e3) + 'k';
  if (v >= 1e3) return (v / 1e3).toFixed(1) + 'k';
  if (v >= 10 || v === 0) return String(Math.round(v));
  return v.toFixed(1);
}

function hhmm(ms) {
  const d = new Date(ms);
  return String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0');
}

// lineChart draws series ({label, key, cls}) of samples (each with a time
// in ms) as a figure with a legend and a text summary of the last values.
export function lineChart(title, samples, series, unit = '') {
  const fig = document.createElement('figure');
  fig.className = 'chart';
  const cap = document.createElement('figcaption');
  cap.textContent = title;
  fig.append(cap);
  if (samples.length === 0) {
    const p = document.createElement('p');
    p.className = 'muted';
    p.textContent = 'No samples yet; the node takes one every few seconds.';
    fig.append(p);
    return fig;
  }
  const t0 = samples[0].time;
  const t1 = Math.max(samples[samples.length - 1].time, t0 + 1);
  let max = 0;
  for (const x of samples) for (const se of series) max = Math.max(max, x[se.key] || 0);
  if (max <= 0) max = 1;
  const x = (t) => PAD.l + ((t - t0) / (t1 - t0)) * (W - PAD.l - PAD.r);
  const y = (v) => H - PAD.b - (v / max) * (H - PAD.t - PAD.b);
  const last = samples[samples.length - 1];
  const summary = series.map((se) => se.label + ' ' + fmt(last[se.key] || 0) + unit).join(', ');
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title + ': now ' + summary, preserveAspectRatio: 'none' });
  svg.append(s('line', { x1: PAD.l, x2: W - PAD.r, y1: y(0), y2: y(0), class: 'axis' }));
  svg.append(s('line', { x1: PAD.l, x2: W - PAD.r, y1: y(max), y2: y(max), class: 'grid' }));
  svg.append(s('text', { x: PAD.l - 4, y: y(max) + 4, 'text-anchor': 'end', class: 'tick' }, fmt(max)));
  svg.append(s('text', { x: PAD.l - 4, y: y(0), 'text-anchor': 'end', class: 'tick' }, '0'));
  svg.append(s('text', { x: PAD.l, y: H - 4, class: 'tick' }, hhmm(t0)));
  svg.append(s('text', { x: W - PAD.r, y: H - 4, 'text-anchor': 'end', class: 'tick' }, hhmm(t1)));
  for (const se of series) {
    const pts = samples.map((p) => x(p.time).toFixed(1) + ',' + y(p[se.key] || 0).toFixed(1)).join(' ');
    svg.append(s('polyline', { points: pts, class: 'line ' + se.cls }));
  }
  fig.append(svg);
  const legend = document.createElement('p');
  legend.className = 'legend';
  for (const se of series) {
    const k = document.createElement('span');
    k.className = 'key ' + se.cls;
    k.textContent = se.label + ': ' + fmt(last[se.key] || 0) + unit;
    legend.append(k);
  }
  fig.append(legend);
  return fig;
}
