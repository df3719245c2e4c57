// logmon dashboard: draws the state from /events (Server-Sent Events).
//
// Everything from the log (sections, paths, clients, user agents,
// referrers) is inserted with textContent or as an attribute value, never
// parsed as HTML, and the page's CSP forbids inline scripts anyway. The
// first event of a stream is the whole state; later ones are reports,
// alerts and recoveries (the objects `logmon --format json` prints), and a
// `second` event for each second the monitor closes, which moves the chart
// and the window's figures. After a report or an alert the page fetches
// /api/state once, so the chart matches the server's exactly.
//
// Times are shown in the browser's time zone, with its offset.
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
// `other` (logged with `-` for a status) comes with the format-string
// parsers; a report without it counts none.
const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', 'other'];
const HISTORY_SHOWN = 50;

let state = null;
let fetching = false;
let fetchAgain = false;
let drawQueued = false;
// Seconds received while the chart draws buckets of several seconds: the
// next bucket, until it is whole.
let partial = { hits: 0, secs: 0 };

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

function percent(part, whole) {
  return whole ? fmt((100 * part) / whole, 1) + '%' : '';
}

function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? fmt(n) : n.toFixed(1)) + ' ' + units[i];
}

const pad = (n) => String(n).padStart(2, '0');

// The browser's offset from UTC at `d`, as `+01:00`.
function offset(d) {
  const m = -d.getTimezoneOffset();
  const a = Math.abs(m);
  return (m < 0 ? '-' : '+') + pad(Math.floor(a / 60)) + ':' + pad(a % 60);
}

function clock(d, seconds) {
  return pad(d.getHours()) + ':' + pad(d.getMinutes()) + (seconds === false ? '' : ':' + pad(d.getSeconds()));
}

function day(d) {
  return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate());
}

// `2026-03-01T12:01:20Z` in local time: `2026-03-01 13:01:20 +01:00`.
function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return isNaN(d) ? iso : day(d) + ' ' + clock(d) + ' ' + offset(d);
}

const seconds = (iso) => Date.parse(iso) / 1000;
const isoOf = (secs) => new Date(secs * 1000).toISOString().replace('.000Z', 'Z');

function apply(ev) {
  if (ev.type === 'state') {
    state = ev;
    partial = { hits: 0, secs: 0 };
  } else if (!state) {
    return; // the state always comes first on a stream
  } else if (ev.type === 'second') {
    second(ev);
  } else if (ev.type === 'report') {
    state.report = ev;
    state.window_hits = ev.window_hits;
    state.window_average = ev.window_average;
    state.alerting = ev.alerting;
    refresh();
  } else if (ev.type === 'alert' || ev.type === 'recovered') {
    state.history.push(ev);
    state.alerting = ev.type === 'alert';
    refresh();
  }
  schedule();
}

// A closed second: the window's figures, and one more point on the chart
// (the oldest drops off), or part of the next bucket of a long window.
function second(ev) {
  state.window_hits = ev.window_hits;
  state.window_average = ev.window_average;
  const at = seconds(ev.at);
  state.at = isoOf(at + 1);
  const chart = state.chart || (state.chart = { bucket_secs: 1, rates: [], end: null });
  const end = chart.end ? seconds(chart.end) : at - 1;
  if (at <= end && chart.end) return; // already charted
  const bucket = chart.bucket_secs || 1;
  const keep = Math.max(1, Math.ceil((state.window_secs - 1) / bucket));
  if (bucket === 1) {
    // Seconds the server did not send (a jump of the log's clock) had no
    // hits in the window.
    for (let s = end + 1; s < at && chart.rates.length <= keep; s++) chart.rates.push(0);
    chart.rates.push(ev.hits);
    chart.end = ev.at;
  } else {
    partial.hits += ev.hits;
    partial.secs += 1;
    if (partial.secs < bucket) return;
    chart.rates.push(partial.hits / bucket);
    chart.end = ev.at;
    partial = { hits: 0, secs: 0 };
  }
  if (chart.rates.length > keep) chart.rates.splice(0, chart.rates.length - keep);
}

// Fetch the whole state; at most one request in flight, so a fast replay
// does not queue hundreds.
function refresh() {
  if (fetching) { fetchAgain = true; return; }
  fetching = true;
  fetch('/api/state', { cache: 'no-store' })
    .then((r) => (r.ok ? r.json() : null))
    .then((s) => { if (s) { apply(s); } })
    .catch(() => {})
    .finally(() => {
      fetching = false;
      if (fetchAgain) { fetchAgain = false; refresh(); }
    });
}

// Draw once per frame however many events arrived.
function schedule() {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => { drawQueued = false; draw(); });
}

function draw() {
  if (!state) return;
  drawSummary();
  drawChart();
  drawHistory();
  drawReport();
}

function drawSummary() {
  const badge = $('alert-state');
  if (state.alerting) {
    badge.replaceChildren('ALERT', el('span', ': high traffic', 'wide'));
  } else {
    badge.replaceChildren('OK');
  }
  badge.className = 'badge ' + (state.alerting ? 'alert' : 'ok');
  document.title = (state.alerting ? '[ALERT] ' : '') + 'logmon';
  const asOf = $('as-of');
  if (state.at) {
    const d = new Date(state.at);
    asOf.replaceChildren(el('span', 'as of ' + day(d) + ' ', 'wide'), clock(d) + ' ' + offset(d));
    asOf.title = when(state.at);
  } else {
    asOf.replaceChildren();
  }
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
  $('key-threshold').textContent = 'threshold ' + fmt(state.threshold, 2) + ' req/s';
  $('key-average').textContent = 'average ' + fmt(state.window_average, 2) + ' req/s';
}

// A step of 1, 2, 2.5 or 5 times a power of ten, so that `max` takes about
// `count` steps.
function niceStep(max, count) {
  const raw = max / count;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 2.5, 5, 10]) {
    if (m * p >= raw) return m * p;
  }
  return 10 * p;
}

// Digits after the point that `step` needs (0.25 -> 2, 5 -> 0).
function decimals(step) {
  let d = 0;
  while (d < 6 && Math.abs(step * Math.pow(10, d) - Math.round(step * Math.pow(10, d))) > 1e-9) d++;
  return d;
}

// Seconds between time labels: a round interval with labels at least
// `minPx` apart.
function timeStep(spanSecs, widthPx, minPx) {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
  for (const s of steps) {
    if ((s / spanSecs) * widthPx >= minPx) return s;
  }
  return steps[steps.length - 1];
}

function drawChart() {
  const chart = $('chart');
  // Drawn at the size it is shown, so text is 12 px on a phone too.
  const W = Math.max(240, Math.round(chart.getBoundingClientRect().width || 800));
  const H = W < 600 ? 180 : 240;
  chart.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
  chart.setAttribute('height', H);
  const rates = (state.chart && state.chart.rates) || [];
  const bucket = (state.chart && state.chart.bucket_secs) || 1;
  const hi = Math.max(state.threshold * 1.15, state.window_average, ...rates) || 1;
  const step = niceStep(hi, H < 200 ? 4 : 5);
  const top = Math.ceil(hi / step - 1e-9) * step;
  const digits = decimals(step);
  const labels = [];
  for (let v = 0; v <= top + step / 2; v += step) labels.push(fmt(v, digits));
  const left = 10 + 7 * Math.max(...labels.map((l) => l.length));
  const right = 10, above = 8, below = 22;
  const pw = W - left - right, ph = H - above - below;
  const y = (v) => above + ph - (v / top) * ph;
  const parts = [];
  labels.forEach((label, i) => {
    const v = i * step;
    parts.push(svg('line', { class: i === 0 ? 'axis' : 'grid', x1: left, x2: W - right, y1: y(v), y2: y(v) }));
    parts.push(svg('text', { class: 'ytick', x: left - 6, y: y(v) + 4, 'text-anchor': 'end' }, label));
  });
  // Point i ends `(n - 1 - i) * bucket` seconds before the newest.
  const n = rates.length;
  const x = (i) => left + (n <= 1 ? pw : (i * pw) / (n - 1));
  if (n > 0) {
    const pts = rates.map((r, i) => x(i).toFixed(1) + ',' + y(r).toFixed(1));
    parts.push(svg('polygon', {
      class: 'area',
      points: [x(0).toFixed(1) + ',' + y(0), ...pts, x(n - 1).toFixed(1) + ',' + y(0)].join(' '),
    }));
    parts.push(svg('polyline', { class: 'rate', points: pts.join(' ') }));
  }
  const ty = y(state.threshold);
  parts.push(svg('line', { class: 'threshold', x1: left, x2: W - right, y1: ty, y2: ty }));
  const ay = y(state.window_average);
  parts.push(svg('line', { class: 'average', x1: left, x2: W - right, y1: ay, y2: ay }));
  parts.push(...timeLabels(n, bucket, left, pw, H));
  chart.replaceChildren(...parts);
  chart.dataset.points = String(n);
  chart.dataset.end = (state.chart && state.chart.end) || '';
  chart.dataset.hits = String(rates.reduce((a, b) => a + b, 0) * bucket);
}

// Labels under the chart at round local times, or seconds ago when the
// chart's end is unknown.
function timeLabels(n, bucket, left, pw, H) {
  const end = state.chart && state.chart.end ? seconds(state.chart.end) : null;
  const span = Math.max(1, (n - 1) * bucket);
  const out = [];
  if (end === null || n < 2) {
    out.push(svg('text', { class: 'xtick', x: left, y: H - 6 }, '-' + fmt(n * bucket) + ' s'));
    out.push(svg('text', { class: 'xtick', x: left + pw, y: H - 6, 'text-anchor': 'end' }, 'now'));
    return out;
  }
  const start = end - span;
  const every = timeStep(span, pw, 80);
  const withSeconds = every < 60;
  const half = (withSeconds ? 8 : 5) * 3.6;
  // Round in local time: the offset moves minute and hour boundaries.
  const shift = -new Date(end * 1000).getTimezoneOffset() * 60;
  for (let t = Math.ceil((start + shift) / every) * every - shift; t <= end; t += every) {
    const at = left + ((t - start) / span) * pw;
    if (at - half < left - 6 || at + half > left + pw + 8) continue;
    out.push(svg('line', { class: 'grid', x1: at, x2: at, y1: H - 22, y2: H - 18 }));
    out.push(svg('text', { class: 'xtick', x: at, y: H - 6, 'text-anchor': 'middle' },
      clock(new Date(t * 1000), withSeconds)));
  }
  return out;
}

function drawHistory() {
  const rows = [];
  for (const a of state.history.slice(-HISTORY_SHOWN).reverse()) {
    const tr = el('tr', undefined, a.type);
    // On a phone, the day only in the cell's title.
    const at = el('td');
    const d = new Date(a.at);
    at.append(el('span', day(d) + ' ', 'wide'), clock(d) + ' ' + offset(d));
    at.title = when(a.at);
    tr.append(el('td', a.type === 'alert' ? 'alert' : 'recovered'), at,
      el('td', fmt(a.hits), 'num'), el('td', fmt(a.average, 2), 'num'));
    rows.push(tr);
    const drivers = a.drivers && driverItems(a);
    if (drivers && drivers.length > 0) {
      tr.classList.add('has-drivers');
      const line = el('tr', undefined, 'drivers');
      const td = el('td', undefined, 'drivers');
      td.colSpan = 4;
      td.append('driven by ');
      drivers.forEach((item, i) => {
        if (i > 0) td.append(', ');
        td.append(item.kind === 'client' ? 'client ' : '', el('code', item.name),
          ' ' + item.change + ' (' + item.share + ')');
      });
      line.append(td);
      rows.push(line);
    }
  }
  $('history').tBodies[0].replaceChildren(...rows);
  $('history-empty').classList.toggle('hidden', rows.length > 0);
}

// An alert's drivers, sections then clients: name, growth since the
// window before, and share of the alert's window. The first of each kind
// always; the others only when they grew at least a tenth as much (`/api
// +1,840` is a driver, `/images +3` next to it is noise).
function driverItems(a) {
  const items = [];
  for (const [kind, list] of [['section', a.drivers.sections], ['client', a.drivers.clients]]) {
    let first = null;
    for (const d of list || []) {
      const growth = d.hits - (d.previous_hits || 0);
      if (first === null) first = growth;
      else if (growth * 10 < first) continue;
      items.push({
        kind,
        name: d[kind],
        change: (growth >= 0 ? '+' : '\u2212') + fmt(Math.abs(growth)),
        // As the text output says it: `(61%)`.
        share: a.hits ? fmt((100 * d.hits) / a.hits) + '%' : '-',
      });
    }
  }
  return items;
}

// Rows for the table `id` from `rows` (absent before the report has such
// a table), each cell `[text, className]`.
function fill(id, rows, cells, exact) {
  const r = state.report;
  const trs = (rows || []).map((row) => {
    const tr = el('tr');
    for (const [text, className] of cells(row)) {
      const td = el('td', text, className);
      if (className && className.startsWith('name')) td.title = String(text);
      tr.append(td);
    }
    return tr;
  });
  $(id).tBodies[0].replaceChildren(...trs);
  const empty = $(id + '-empty');
  empty.textContent = r ? 'None in the last period.' : 'No report yet.';
  empty.classList.toggle('hidden', trs.length > 0);
  const approx = $(id + '-approx');
  if (approx) approx.textContent = exact === false ? 'approximate' : '';
}

function drawReport() {
  const r = state.report;
  const hits = r ? r.hits : 0;
  const share = (row) => [percent(row.hits, hits), 'num'];
  const errors = (row) => [fmt(row.errors || 0), 'num' + (row.errors ? ' errors' : '')];
  if (r) {
    const start = new Date(r.start), end = new Date(r.end);
    $('period').replaceChildren(el('span', day(start) + ' ', 'wide'), clock(start) + ' to ' +
      clock(end) + ' ' + offset(end) + ', ' + fmt(hits) + ' hits');
  }
  fill('sections', r && r.sections, (s) => [[s.section, 'name'], [fmt(s.hits), 'num'], share(s), errors(s)],
    r && r.sections_exact);
  drawStatus(r);
  const geo = !!(r && Array.isArray(r.top_countries));
  $('clients').classList.toggle('no-country', !geo);
  fill('clients', r && r.top_clients,
    (c) => [[c.client, 'name'], [c.country || '', 'country'], [fmt(c.hits), 'num'], share(c), errors(c)],
    r && r.top_clients_exact);
  fill('paths', r && r.top_paths, (p) => [[p.path, 'name'], [fmt(p.hits), 'num'], share(p), errors(p)],
    r && r.top_paths_exact);
  fill('agents', r && r.top_agents,
    (a) => [[a.agent, 'name'], [fmt(a.hits), 'num'], share(a), [a.bot ? 'bot' : '', a.bot ? 'flag bot-cell' : 'flag']],
    r && r.top_agents_exact);
  for (const cell of document.querySelectorAll('#agents td.bot-cell')) {
    cell.replaceChildren(el('span', 'bot', 'bot'));
  }
  fill('referrers', r && r.top_referrers, (f) => [[f.referrer, 'name'], [fmt(f.hits), 'num'], share(f)],
    r && r.top_referrers_exact);
  $('countries-panel').classList.toggle('hidden', !geo);
  fill('countries', geo ? r.top_countries : [], (c) => [[c.country, 'name'], [fmt(c.hits), 'num'], share(c)]);
}

// The status bar by class, and the exact codes (`-` for a hit logged
// without one) with their share.
function drawStatus(r) {
  const counts = CLASSES.map((c) => (r && r.status ? r.status[c] || 0 : 0));
  const total = counts.reduce((a, b) => a + b, 0);
  const segs = [], keys = [];
  counts.forEach((n, i) => {
    if (n === 0) return;
    const seg = el('span', undefined, 'seg c' + (i + 1));
    // CSSOM, not a style attribute: allowed by the policy.
    seg.style.width = ((100 * n) / total).toFixed(2) + '%';
    seg.title = CLASSES[i] + ': ' + n;
    segs.push(seg);
    keys.push(el('li', CLASSES[i] + ' ' + fmt(n) + ' (' + percent(n, total) + ')', 'key c' + (i + 1)));
  });
  $('status-bar').replaceChildren(...segs);
  $('status-legend').replaceChildren(...keys);
  const codes = Object.entries((r && r.codes) || {})
    .map(([code, hits]) => ({ code, hits }))
    .sort((a, b) => b.hits - a.hits || (a.code < b.code ? -1 : 1));
  const hits = r ? r.hits : 0;
  fill('codes', codes, (c) => {
    const cls = c.code === '-' ? 6 : Math.min(5, Math.max(1, Number(c.code[0])));
    return [[c.code, 'name key c' + cls], [fmt(c.hits), 'num'], [percent(c.hits, hits), 'num']];
  });
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

window.addEventListener('resize', schedule);
connect();
