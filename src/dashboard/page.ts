/**
 * The dashboard page: one HTML shell, one stylesheet and one script, all served by the handler
 * itself so the page needs no CDN, no build step and no inline script or style (its
 * Content-Security-Policy allows only `'self'`). Every name and every event field reaches the
 * DOM through `textContent` or an attribute, never as HTML.
 *
 * Internal: not exported from the package.
 * @module
 */

/** The page's Content-Security-Policy: nothing from anywhere but this handler, nothing inline. */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const escapeAttr = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** The HTML shell; `query` (`?token=…` or empty) is passed on to the assets it loads. */
export function pageHtml(query: string): string {
  const q = escapeAttr(query);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>breakwater dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="app.css${q}">
<script src="app.js${q}" defer></script>
</head>
<body>
<header>
  <div class="brand"><span class="logo" aria-hidden="true"></span><h1>breakwater</h1></div>
  <div id="summary" class="summary"></div>
  <input id="filter" type="search" placeholder="Filter policies" aria-label="Filter policies by name" autocomplete="off">
  <span id="status" class="status connecting" role="status">connecting</span>
</header>
<main id="groups"><p class="empty" id="empty">Waiting for the first snapshot…</p></main>
<footer>Live from <code>stream</code> · also <code>snapshot</code> (JSON) and <code>hystrix.stream</code> (Hystrix dashboard, Turbine)</footer>
</body>
</html>
`;
}

export const APP_CSS = `
:root {
  --bg: #0f1419; --panel: #171e26; --panel2: #1d2630; --line: #2a3542; --text: #e6edf3; --muted: #8b98a5;
  --ok: #3fb950; --warn: #d29922; --bad: #f85149; --iso: #bc8cff; --p50: #58a6ff; --p99: #f0883e;
  color-scheme: dark;
}
* { box-sizing: border-box; }
html, body { margin: 0; background: var(--bg); color: var(--text);
  font: 13px/1.35 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header { position: sticky; top: 0; z-index: 2; display: flex; align-items: center; gap: 16px; padding: 10px 18px;
  background: rgba(15, 20, 25, 0.94); border-bottom: 1px solid var(--line); }
.brand { display: flex; align-items: center; gap: 8px; }
.logo { width: 18px; height: 18px; border-radius: 4px;
  background: linear-gradient(135deg, var(--p50) 0 50%, var(--ok) 50% 100%); }
h1 { font-size: 16px; font-weight: 650; margin: 0; letter-spacing: 0.2px; }
.summary { flex: 1; color: var(--muted); display: flex; gap: 14px; flex-wrap: wrap; }
.summary b { color: var(--text); font-weight: 600; }
.summary .n-open b { color: var(--bad); } .summary .n-half b { color: var(--warn); }
#filter { background: var(--panel); color: var(--text); border: 1px solid var(--line); border-radius: 6px;
  padding: 5px 9px; width: 200px; font: inherit; }
.status { font-size: 12px; padding: 2px 9px; border-radius: 999px; border: 1px solid var(--line); color: var(--muted); }
.status::before { content: ""; display: inline-block; width: 7px; height: 7px; border-radius: 50%;
  margin-right: 6px; background: var(--muted); vertical-align: 1px; }
.status.live::before { background: var(--ok); } .status.down::before { background: var(--bad); }
main { padding: 14px 18px 30px; }
.empty { color: var(--muted); }
section.group { margin: 0 0 18px; }
section.group.hidden, .card.hidden { display: none; }
.group-head { display: flex; align-items: baseline; gap: 10px; margin: 0 0 8px; }
.group-head h2 { font-size: 13px; font-weight: 600; margin: 0; color: var(--text); }
.group-head .tag { font-size: 11px; color: var(--muted); text-transform: uppercase; letter-spacing: 0.6px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(228px, 1fr)); gap: 8px; }
.card { background: var(--panel); border: 1px solid var(--line); border-left: 3px solid var(--line);
  border-radius: 7px; padding: 8px 10px 6px; min-width: 0; }
.card.kind-pipeline { background: var(--panel2); }
.card[data-state="closed"] { border-left-color: var(--ok); }
.card[data-state="open"] { border-left-color: var(--bad); box-shadow: 0 0 0 1px rgba(248, 81, 73, 0.35); }
.card[data-state="halfOpen"] { border-left-color: var(--warn); }
.card[data-state="isolated"] { border-left-color: var(--iso); }
.head { display: flex; align-items: center; gap: 6px; }
.name { flex: 1; min-width: 0; margin: 0; font-size: 13px; font-weight: 600; overflow: hidden;
  text-overflow: ellipsis; white-space: nowrap; }
.kind { color: var(--muted); font-size: 11px; margin-top: 1px; }
.state { font-size: 11px; font-weight: 600; padding: 1px 7px; border-radius: 999px; white-space: nowrap; }
.state:empty { display: none; }
.state.s-closed { color: var(--ok); background: rgba(63, 185, 80, 0.14); }
.state.s-open { color: #fff; background: var(--bad); }
.state.s-halfOpen { color: #111; background: var(--warn); }
.state.s-isolated { color: #111; background: var(--iso); }
.stats { display: grid; grid-template-columns: repeat(3, 1fr); gap: 2px 8px; margin: 6px 0 2px; }
.stat { min-width: 0; }
.stat .v { font-variant-numeric: tabular-nums; font-weight: 600; white-space: nowrap; }
.stat .l { color: var(--muted); font-size: 10.5px; }
.stat.bad .v { color: var(--bad); } .stat.warn .v { color: var(--warn); }
.stat.p50 .v { color: var(--p50); } .stat.p99 .v { color: var(--p99); }
svg.spark { display: block; width: 100%; height: 30px; margin-top: 8px; overflow: visible; }
svg.spark .grid { stroke: var(--line); stroke-width: 1; }
svg.spark polyline { fill: none; stroke-width: 1.4; vector-effect: non-scaling-stroke; }
svg.spark .l50 { stroke: var(--p50); } svg.spark .l99 { stroke: var(--p99); }
footer { color: var(--muted); padding: 0 18px 18px; font-size: 12px; }
code { color: var(--text); }
`;

/** The page script (plain ES2020, no dependencies). */
export const APP_JS = `(function () {
  'use strict';
  var token = new URLSearchParams(location.search).get('token');
  var query = token ? '?token=' + encodeURIComponent(token) : '';
  var HISTORY_MS = 60000;
  var SVG = 'http://www.w3.org/2000/svg';
  var STATE_WORDS = { closed: 'closed', open: 'open', halfOpen: 'half-open', isolated: 'isolated' };
  var groupsEl = document.getElementById('groups');
  var emptyEl = document.getElementById('empty');
  var statusEl = document.getElementById('status');
  var summaryEl = document.getElementById('summary');
  var filterEl = document.getElementById('filter');
  var cards = new Map();
  var groups = new Map();
  var layoutKey = '';
  var filter = '';
  // Per-update timings, read by the benchmark and the tests.
  var stats = { updates: 0, lastMs: 0, maxMs: 0, totalMs: 0, recent: [] };
  window.breakwaterDashboard = { stats: stats };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function set(node, text) {
    if (node.textContent !== text) node.textContent = text;
  }
  function ms(v) {
    if (!(v > 0)) return '0 ms';
    if (v < 1) return v.toFixed(2) + ' ms';
    if (v < 10) return v.toFixed(1) + ' ms';
    if (v < 10000) return Math.round(v) + ' ms';
    return (v / 1000).toFixed(1) + ' s';
  }
  function num(v) {
    if (v < 10 && v % 1 !== 0) return v.toFixed(1);
    if (v >= 10000) return (v / 1000).toFixed(v >= 100000 ? 0 : 1) + 'k';
    return String(Math.round(v));
  }
  function safeClass(s) {
    return String(s).replace(/[^A-Za-z0-9_-]/g, '_');
  }

  function stat(parent, label, cls) {
    var s = el('div', 'stat' + (cls ? ' ' + cls : ''));
    var v = el('div', 'v', '–');
    s.appendChild(v);
    s.appendChild(el('div', 'l', label));
    parent.appendChild(s);
    return v;
  }

  function makeCard(p) {
    var root = el('article', 'card kind-' + safeClass(p.kind));
    root.dataset.name = p.name;
    var head = el('div', 'head');
    var name = el('h3', 'name', p.name);
    name.title = p.name;
    head.appendChild(name);
    var state = el('span', 'state');
    head.appendChild(state);
    root.appendChild(head);
    root.appendChild(el('div', 'kind', p.kind));
    var grid = el('div', 'stats');
    var c = { root: root, state: state, history: [], cur: undefined };
    c.rate = stat(grid, 'calls/s');
    c.errors = stat(grid, 'errors');
    c.errorsBox = c.errors.parentNode;
    c.p50 = stat(grid, 'p50', 'p50');
    c.p99 = stat(grid, 'p99', 'p99');
    c.rejections = stat(grid, 'rejected');
    c.rejBox = c.rejections.parentNode;
    c.fallbacks = stat(grid, 'fallbacks');
    if (p.executing !== undefined) c.executing = stat(grid, 'executing');
    if (p.queued !== undefined) c.queued = stat(grid, 'queued');
    if (p.limit !== undefined) c.limit = stat(grid, 'limit');
    if (p.kind === 'retry' || p.kind === 'pipeline') c.retries = stat(grid, 'retries');
    if (p.kind === 'timeout' || p.kind === 'pipeline') c.timeouts = stat(grid, 'timeouts');
    root.appendChild(grid);
    var svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('class', 'spark');
    svg.setAttribute('viewBox', '0 0 1200 300');
    svg.setAttribute('preserveAspectRatio', 'none');
    var title = document.createElementNS(SVG, 'title');
    svg.appendChild(title);
    var base = document.createElementNS(SVG, 'line');
    base.setAttribute('class', 'grid');
    base.setAttribute('x1', '0'); base.setAttribute('x2', '1200');
    base.setAttribute('y1', '295'); base.setAttribute('y2', '295');
    svg.appendChild(base);
    c.l99 = document.createElementNS(SVG, 'polyline');
    c.l99.setAttribute('class', 'l99');
    c.l50 = document.createElementNS(SVG, 'polyline');
    c.l50.setAttribute('class', 'l50');
    svg.appendChild(c.l99);
    svg.appendChild(c.l50);
    c.sparkTitle = title;
    root.appendChild(svg);
    return c;
  }

  function showState(c, state) {
    if (state === undefined) return;
    if (c.root.dataset.state !== state) c.root.dataset.state = state;
    var cls = 'state s-' + safeClass(state);
    if (c.state.className !== cls) c.state.className = cls;
    set(c.state, STATE_WORDS[state] || String(state));
  }

  function update(c, p, now) {
    var secs = p.windowMs > 0 ? p.windowMs / 1000 : 1;
    set(c.rate, num(p.calls / secs));
    var ran = p.successes + p.failures;
    var pct = ran > 0 ? (100 * p.failures) / ran : 0;
    set(c.errors, pct === 0 ? '0%' : pct < 10 ? pct.toFixed(1) + '%' : Math.round(pct) + '%');
    var ecls = 'stat' + (pct >= 50 ? ' bad' : pct >= 5 ? ' warn' : '');
    if (c.errorsBox.className !== ecls) c.errorsBox.className = ecls;
    // No latency recorded in the window: nothing to show, rather than a 0 that reads as fast.
    var timed = p.latencyMs.count > 0;
    set(c.p50, timed ? ms(p.latencyMs.p50) : '–');
    set(c.p99, timed ? ms(p.latencyMs.p99) : '–');
    set(c.rejections, num(p.rejections));
    var rcls = 'stat' + (p.rejections > 0 ? ' warn' : '');
    if (c.rejBox.className !== rcls) c.rejBox.className = rcls;
    set(c.fallbacks, num(p.fallbacks));
    if (c.executing) set(c.executing, num(p.executing || 0));
    if (c.queued) set(c.queued, num(p.queued || 0));
    if (c.limit) set(c.limit, num(p.limit || 0));
    if (c.retries) set(c.retries, num(p.retries));
    if (c.timeouts) set(c.timeouts, num(p.timeouts));
    showState(c, p.state);
    // One point per second at most (the highest p50 and p99 of that second): a minute is at
    // most 61 points whatever the interval.
    var h = c.history;
    var sec = Math.floor(now / 1000);
    var last = h[h.length - 1];
    if (!timed) {
      // No latency in the window (an open breaker rejecting everything): no point to draw.
    } else if (last !== undefined && last.s === sec) {
      if (p.latencyMs.p50 > last.a) last.a = p.latencyMs.p50;
      if (p.latencyMs.p99 > last.b) last.b = p.latencyMs.p99;
      last.t = now;
    } else h.push({ s: sec, t: now, a: p.latencyMs.p50, b: p.latencyMs.p99 });
    while (h.length > 0 && h[0].t < now - HISTORY_MS) h.shift();
    drawSpark(c, now);
  }

  function drawSpark(c, now) {
    var h = c.history;
    // The last minute; until a minute has been seen, the time seen so far.
    var span = h.length > 1 ? Math.min(HISTORY_MS, Math.max(1000, now - h[0].t)) : HISTORY_MS;
    var max = 0;
    for (var i = 0; i < h.length; i++) if (h[i].b > max) max = h[i].b;
    if (!(max > 0)) max = 1;
    // Whole numbers in a 1200 × 300 box: integer formatting is the cheap kind.
    var a = '';
    var b = '';
    for (var j = 0; j < h.length; j++) {
      var x = Math.round((1200 * (h[j].t - now + span)) / span);
      a += x + ',' + Math.round(290 - (270 * h[j].a) / max) + ' ';
      b += x + ',' + Math.round(290 - (270 * h[j].b) / max) + ' ';
    }
    c.l50.setAttribute('points', a);
    c.l99.setAttribute('points', b);
    set(c.sparkTitle, 'p50 and p99 over the last minute; top = ' + ms(max));
  }

  function groupOf(p) {
    if (p.group !== undefined) return p.group;
    if (p.kind === 'pipeline') return p.name;
    return '';
  }

  function layout(snap) {
    var key = '';
    for (var i = 0; i < snap.policies.length; i++) {
      var p = snap.policies[i];
      key += p.name + '\\u0000' + groupOf(p) + '\\u0001';
    }
    if (key === layoutKey) return;
    layoutKey = key;
    var seen = new Set();
    var order = [];
    var byGroup = new Map();
    snap.policies.forEach(function (p) {
      seen.add(p.name);
      var c = cards.get(p.name);
      if (!c) {
        c = makeCard(p);
        cards.set(p.name, c);
      }
      var g = groupOf(p);
      if (!byGroup.has(g)) {
        byGroup.set(g, []);
        order.push(g);
      }
      // The pipeline a group is named after leads it.
      if (p.kind === 'pipeline' && p.name === g) byGroup.get(g).unshift(c);
      else byGroup.get(g).push(c);
    });
    cards.forEach(function (c, name) {
      if (!seen.has(name)) {
        c.root.remove();
        cards.delete(name);
      }
    });
    // Policies outside any pipeline come last.
    order.sort(function (x, y) { return (x === '') - (y === ''); });
    groups.forEach(function (g, name) {
      if (!byGroup.has(name)) {
        g.el.remove();
        groups.delete(name);
      }
    });
    order.forEach(function (name) {
      var g = groups.get(name);
      if (!g) {
        var sec = el('section', 'group');
        var gh = el('div', 'group-head');
        gh.appendChild(el('h2', '', name === '' ? 'Other policies' : name));
        gh.appendChild(el('span', 'tag', name === '' ? 'standalone' : 'pipeline'));
        sec.appendChild(gh);
        var body = el('div', 'cards');
        sec.appendChild(body);
        g = { el: sec, body: body };
        groups.set(name, g);
      }
      groupsEl.appendChild(g.el);
      byGroup.get(name).forEach(function (c) { g.body.appendChild(c.root); });
    });
    if (emptyEl) {
      emptyEl.remove();
      emptyEl = null;
    }
    applyFilter();
  }

  function applyFilter() {
    groups.forEach(function (g) {
      var any = false;
      var list = g.body.children;
      for (var i = 0; i < list.length; i++) {
        var name = list[i].dataset.name || '';
        var hide = filter !== '' && name.toLowerCase().indexOf(filter) === -1;
        list[i].classList.toggle('hidden', hide);
        if (!hide) any = true;
      }
      g.el.classList.toggle('hidden', !any);
    });
  }

  function summarize(snap) {
    var n = { open: 0, half: 0, iso: 0 };
    snap.policies.forEach(function (p) {
      if (p.state === 'open') n.open++;
      else if (p.state === 'halfOpen') n.half++;
      else if (p.state === 'isolated') n.iso++;
    });
    var parts = [
      ['', snap.policies.length, snap.policies.length === 1 ? 'policy' : 'policies'],
      ['', snap.pipelines.length, snap.pipelines.length === 1 ? 'pipeline' : 'pipelines'],
      ['n-open', n.open, 'open'],
      ['n-half', n.half, 'half-open'],
    ];
    if (n.iso > 0) parts.push(['n-open', n.iso, 'isolated']);
    while (summaryEl.children.length < parts.length) {
      var s = el('span');
      s.appendChild(el('b'));
      s.appendChild(document.createTextNode(''));
      summaryEl.appendChild(s);
    }
    while (summaryEl.children.length > parts.length) summaryEl.lastChild.remove();
    parts.forEach(function (part, i) {
      var s = summaryEl.children[i];
      if (s.className !== part[0]) s.className = part[0];
      set(s.firstChild, String(part[1]));
      if (s.lastChild.data !== ' ' + part[2]) s.lastChild.data = ' ' + part[2];
    });
  }

  function onSnapshot(data) {
    var t0 = performance.now();
    var snap = JSON.parse(data);
    layout(snap);
    var now = Date.now();
    for (var i = 0; i < snap.policies.length; i++) {
      var p = snap.policies[i];
      var c = cards.get(p.name);
      if (c) update(c, p, now);
    }
    summarize(snap);
    var dt = performance.now() - t0;
    stats.updates++;
    stats.lastMs = dt;
    stats.totalMs += dt;
    if (dt > stats.maxMs) stats.maxMs = dt;
    stats.recent.push(dt);
    if (stats.recent.length > 200) stats.recent.shift();
  }

  function onStateChange(e) {
    var c = cards.get(e.policy);
    if (c) showState(c, e.to);
  }

  function status(cls, text) {
    statusEl.className = 'status ' + cls;
    set(statusEl, text);
  }

  filterEl.addEventListener('input', function () {
    filter = filterEl.value.trim().toLowerCase();
    applyFilter();
  });

  var source = new EventSource('stream' + query);
  source.addEventListener('open', function () { status('live', 'live'); });
  source.addEventListener('error', function () {
    status('down', source.readyState === EventSource.CLOSED ? 'disconnected' : 'reconnecting');
  });
  source.addEventListener('snapshot', function (e) { onSnapshot(e.data); });
  source.addEventListener('stateChange', function (e) { onStateChange(JSON.parse(e.data)); });
})();
`;
