// logmon dashboard: draws the state from /events (Server-Sent Events).
//
// Everything from the log (section names) is inserted with textContent or
// as an attribute value, never parsed as HTML, and the page's CSP forbids
// inline scripts anyway. The first event of a stream is the whole state;
// later ones are reports, alerts and recoveries, the objects
// `logmon --format json` prints. The chart's per-second counts are not in
// those objects, so after each one the page fetches /api/state once.
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', 'other'];
const HISTORY_SHOWN = 50;

let state = null;
let fetching = false;
let fetchAgain = false;

const $ = (id) => document.getElementById(id);

function el(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = String(text);
  if (className) e.className = className;
  return e;
}

function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = String(text);
  return e;
}

function fmt(n, digits) {
  return Number(n).toLocaleString(undefined, {
    minimumFractionDigits: digits || 0,
    maximumFractionDigits: digits || 0,
  });
}

function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? fmt(n) : n.toFixed(1)) + ' ' + units[i];
}

// `2026-03-01T12:01:20Z` -> `2026-03-01 12:01:20 UTC`: the log's times, as
// logmon prints them in JSON, without guessing the viewer's zone.
function when(iso) {
  return iso ? iso.replace('T', ' ').replace('Z', ' UTC') : '';
}

function apply(ev) {
  if (ev.type === 'state') {
    state = ev;
  } else if (!state) {
    return; // the state always comes first on a stream
  } else if (ev.type === 'report') {
    state.report = ev;
    state.window_hits = ev.window_hits;
    state.window_average = ev.window_average;
    state.alerting = ev.alerting;
    state.at = ev.end;
    refresh();
  } else if (ev.type === 'alert' || ev.type === 'recovered') {
    state.history.push(ev);
    state.alerting = ev.type === 'alert';
    refresh();
  }
  draw();
}

// Fetch the whole state (for the chart); at most one request in flight, so
// a fast replay does not queue hundreds.
function refresh() {
  if (fetching) { fetchAgain = true; return; }
  fetching = true;
  fetch('/api/state', { cache: 'no-store' })
    .then((r) => (r.ok ? r.json() : null))
    .then((s) => { if (s) { state = s; draw(); } })
    .catch(() => {})
    .finally(() => {
      fetching = false;
      if (fetchAgain) { fetchAgain = false; refresh(); }
    });
}

function draw() {
  if (!state) return;
  drawSummary();
  drawChart();
  drawSections();
  drawStatus();
  drawHistory();
}

function drawSummary() {
  const badge = $('alert-state');
  badge.textContent = state.alerting ? 'ALERT: high traffic' : 'OK';
  badge.className = 'badge ' + (state.alerting ? 'alert' : 'ok');
  document.title = (state.alerting ? '[ALERT] ' : '') + 'logmon';
  $('as-of').textContent = state.at ? 'as of ' + when(state.at) : '';
  const avg = $('average');
  avg.textContent = fmt(state.window_average, 2) + ' req/s';
  avg.className = 'value' + (state.alerting ? ' alert' : '');
  $('threshold').textContent = 'alert above ' + fmt(state.threshold, 2) + ' req/s';
  $('window-hits').textContent = fmt(state.window_hits);
  $('window-secs').textContent = 'in the last ' + fmt(state.window_secs) + ' s';
  if (state.totals) {
    $('total-hits').textContent = fmt(state.totals.hits);
    $('total-bytes').textContent = bytes(state.totals.bytes);
    $('total-invalid').textContent = fmt(state.totals.invalid);
  }
}

function drawChart() {
  const chart = $('chart');
  const W = 800, H = 220, left = 44, right = 10, top = 12, bottom = 24;
  const pw = W - left - right, ph = H - top - bottom;
  const rates = (state.chart && state.chart.rates) || [];
  const bucket = (state.chart && state.chart.bucket_secs) || 1;
  const max = Math.max(state.threshold * 1.25, ...rates, 1) * 1.05;
  const x = (i) => left + (rates.length <= 1 ? pw : (i * pw) / (rates.length - 1));
  const y = (v) => top + ph - (v / max) * ph;
  const parts = [];
  for (const f of [0, 0.5, 1]) {
    const v = max * f;
    parts.push(svg('line', { class: 'grid', x1: left, x2: W - right, y1: y(v), y2: y(v) }));
    parts.push(svg('text', { x: left - 6, y: y(v) + 4, 'text-anchor': 'end' }, fmt(v, v < 10 ? 1 : 0)));
  }
  if (rates.length > 0) {
    const pts = rates.map((r, i) => x(i).toFixed(1) + ',' + y(r).toFixed(1));
    parts.push(svg('polygon', {
      class: 'area',
      points: [x(0).toFixed(1) + ',' + y(0), ...pts, x(rates.length - 1).toFixed(1) + ',' + y(0)].join(' '),
    }));
    parts.push(svg('polyline', { class: 'rate', points: pts.join(' ') }));
  }
  const ty = y(state.threshold);
  parts.push(svg('line', { class: 'threshold', x1: left, x2: W - right, y1: ty, y2: ty }));
  parts.push(svg('text', { class: 'threshold-label', x: W - right, y: ty - 5, 'text-anchor': 'end' },
    'threshold ' + fmt(state.threshold, 2) + ' req/s'));
  const ay = y(state.window_average);
  parts.push(svg('line', { class: 'average', x1: left, x2: W - right, y1: ay, y2: ay }));
  parts.push(svg('text', { x: left + 4, y: ay - 5 }, 'average ' + fmt(state.window_average, 2)));
  const span = rates.length * bucket;
  parts.push(svg('text', { x: left, y: H - 6 }, '-' + fmt(span) + ' s'));
  parts.push(svg('text', { x: W - right, y: H - 6, 'text-anchor': 'end' },
    bucket > 1 ? 'now (' + bucket + ' s per point)' : 'now'));
  chart.replaceChildren(...parts);
}

function drawSections() {
  const r = state.report;
  const rows = [];
  if (r) {
    for (const s of r.sections) {
      const tr = el('tr');
      const name = el('td', s.section, 'section');
      name.title = s.section;
      tr.append(name, el('td', fmt(s.hits), 'num'),
        el('td', r.hits ? fmt((100 * s.hits) / r.hits, 1) + '%' : '', 'num'),
        el('td', fmt(s.errors), 'num' + (s.errors ? ' errors' : '')));
      rows.push(tr);
    }
    $('period').textContent = when(r.start) + ' to ' + when(r.end).slice(11) +
      ', ' + fmt(r.hits) + ' hits' + (r.sections_exact ? '' : ' (approximate)');
  }
  $('sections').tBodies[0].replaceChildren(...rows);
  $('sections-empty').textContent = r ? 'No requests in the last period.' : 'No report yet.';
  $('sections-empty').classList.toggle('hidden', rows.length > 0);
}

function drawStatus() {
  const r = state.report;
  const counts = CLASSES.map((c) => (r ? r.status[c] || 0 : 0));
  const total = counts.reduce((a, b) => a + b, 0);
  const segs = [], keys = [];
  counts.forEach((n, i) => {
    if (n === 0) return;
    const seg = el('span', undefined, 'seg c' + (i + 1));
    // CSSOM, not a style attribute: allowed by the policy.
    seg.style.width = ((100 * n) / total).toFixed(2) + '%';
    seg.title = CLASSES[i] + ': ' + n;
    segs.push(seg);
    keys.push(el('li', CLASSES[i] + ' ' + fmt(n) + ' (' + fmt((100 * n) / total, 1) + '%)', 'key c' + (i + 1)));
  });
  if (total === 0) keys.push(el('li', 'no requests in the last period'));
  $('status-bar').replaceChildren(...segs);
  $('status-legend').replaceChildren(...keys);
}

function drawHistory() {
  const rows = state.history.slice(-HISTORY_SHOWN).reverse().map((a) => {
    const tr = el('tr', undefined, a.type);
    tr.append(el('td', a.type === 'alert' ? 'alert' : 'recovered'), el('td', when(a.at)),
      el('td', fmt(a.hits), 'num'), el('td', fmt(a.average, 2) + ' req/s', 'num'));
    return tr;
  });
  $('history').tBodies[0].replaceChildren(...rows);
  $('history-empty').classList.toggle('hidden', rows.length > 0);
}

function connect() {
  const link = $('link');
  const es = new EventSource('/events');
  es.onopen = () => { link.textContent = 'live'; link.className = 'link live'; };
  es.onmessage = (m) => {
    try { apply(JSON.parse(m.data)); } catch (e) { /* a bad event must not stop the page */ }
  };
  es.onerror = () => {
    link.textContent = 'reconnecting';
    link.className = 'link down';
    // The browser retries a dropped stream by itself, but gives up after
    // an error answer (503 when the server has too many streams).
    if (es.readyState === EventSource.CLOSED) setTimeout(connect, 5000);
  };
}

connect();
