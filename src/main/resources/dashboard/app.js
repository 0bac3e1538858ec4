'use strict';
// Bunker's dashboard: every figure comes from the API's own answers (/ui/v1/... is /v1/... behind the login session), so
// the page shows what `bunker status --json` and /v1/dr say. Text from the server is only ever set as text, never as HTML.
(() => {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const REFRESH_MS = Math.max(1, Number(params.get('refresh')) || 15) * 1000;
  let me = null;
  let timer = null;
  const charts = {};

  async function api(path, options) {
    const init = Object.assign({ credentials: 'same-origin', headers: {} }, options || {});
    if (init.method && init.method !== 'GET') init.headers['X-Bunker-UI'] = '1';
    const r = await fetch('/ui/v1/' + path, init);
    if (r.status === 401) {
      showLogin('');
      throw new Error('logged out');
    }
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(body.error || 'HTTP ' + r.status);
    return body;
  }

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k.startsWith('on')) e.addEventListener(k.substring(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function table(headers, rows, attrs) {
    return el('table', attrs, el('thead', {}, el('tr', {}, headers.map((h) => el('th', {}, h)))),
      el('tbody', {}, rows));
  }

  function replace(id, ...nodes) {
    const target = $(id);
    target.replaceChildren(...nodes.flat().filter((n) => n));
  }

  const time = (t) => (t ? new Date(t).toLocaleString() : 'never');
  const secs = (s) => (s === null || s === undefined ? '—' : s < 120 ? s.toFixed(1) + ' s' : s < 7200 ? (s / 60).toFixed(1) + ' min' : (s / 3600).toFixed(1) + ' h');
  const bytes = (b) => (b < 1e3 ? b + ' B' : b < 1e6 ? (b / 1e3).toFixed(1) + ' kB' : b < 1e9 ? (b / 1e6).toFixed(1) + ' MB' : (b / 1e9).toFixed(2) + ' GB');
  const verdict = (ok, yes, no) => el('span', { class: ok ? 'ok' : 'bad' }, ok ? yes || 'ok' : no || 'FAILED');

  function showLogin(message) {
    if (timer) clearInterval(timer);
    timer = null;
    me = null;
    $('nav').hidden = true;
    $('dashboard').hidden = true;
    $('runbook').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = message || '';
    $('token').focus();
  }

  $('login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const r = await fetch('/login', { method: 'POST', credentials: 'same-origin', body: new URLSearchParams({ token: $('token').value }) });
    $('token').value = '';
    if (!r.ok) {
      const b = await r.json().catch(() => ({}));
      showLogin(b.error || 'refused (HTTP ' + r.status + ')');
      return;
    }
    start();
  });

  $('audit-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await api('dr/audits', { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ by: $('audit-by').value, note: $('audit-note').value }) });
      $('audit-by').value = '';
      $('audit-note').value = '';
      refresh();
    } catch (e) {
      $('updated').textContent = 'audit refused: ' + e.message;
    }
  });

  $('logout').addEventListener('click', async () => {
    await fetch('/logout', { method: 'POST', credentials: 'same-origin' });
    showLogin('logged out');
  });

  async function start() {
    try {
      me = await api('whoami');
    } catch (e) {
      if (e.message !== 'logged out') showLogin(e.message);
      return;
    }
    $('login').hidden = true;
    $('nav').hidden = false;
    $('who').textContent = 'token ' + me.name + ' (' + me.scope + ')';
    const runbook = location.pathname === '/runbook';
    $('dashboard').hidden = runbook;
    $('runbook').hidden = !runbook;
    await refresh();
    if (!timer) timer = setInterval(refresh, REFRESH_MS);
  }

  async function refresh() {
    if (!me) return;
    if (location.pathname === '/runbook') {
      await show('runbook-body', () => api('dr/runbook').then(renderRunbook));
    } else {
      const names = ['status', 'stores', 'history?since=24h', 'jobs/failed', 'backups', 'drills', 'alerts', 'dr', 'dr/audits'];
      const got = await Promise.allSettled(names.map((n) => api(n)));
      if (!me) return;
      const d = {};
      names.forEach((n, i) => (d[n.split('?')[0]] = got[i].status === 'fulfilled' ? got[i].value : { error: got[i].reason.message }));
      await show('stores-table', () => renderStores(d.status, d.stores));
      await show('replication-figures', () => renderReplication(d.status, d.history, d['jobs/failed']));
      await show('backups-body', () => renderBackups(d.backups, d.status));
      await show('drills-body', () => renderDrills(d.drills, d.alerts));
      await show('alerts-body', () => renderAlerts(d.alerts));
      await show('deletion-body', () => renderDeletion(d.status));
      await show('dr-table', () => renderDr(d.dr, d['dr/audits']));
    }
    $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
  }

  /** Renders one part; a failing part says why in its place and leaves the others alone. */
  async function show(id, render) {
    try {
      await render();
    } catch (e) {
      if (e.message !== 'logged out') replace(id, el('p', { class: 'bad' }, 'could not load: ' + e.message));
    }
  }

  function need(answer) {
    if (answer && answer.error) throw new Error(answer.error);
    return answer;
  }

  const STATES = ['verified', 'pending', 'failed', 'missing', 'corrupt'];

  function renderStores(status, stores) {
    need(status);
    need(stores);
    const rows = stores.map((s) => {
      const health = status.stores[s.name] || {};
      const copies = status.copies[s.name] || {};
      const sizes = (status.copyBytes || {})[s.name] || {};
      return el('tr', { 'data-store': s.name, class: health.healthy ? null : 'red' },
        el('td', {}, el('b', {}, s.name)), el('td', {}, s.role), el('td', {}, s.tier), el('td', {}, s.type),
        el('td', { 'data-field': 'health' }, health.healthy ? verdict(true, 'healthy') : verdict(false, '', 'FAILING'),
          health.error ? el('div', { class: 'muted' }, health.error) : null),
        el('td', {}, health.latencyMillis + ' ms'),
        el('td', {}, s.lock ? s.lock.mode + ', ' + s.lock.period : 'none'),
        STATES.map((st) => el('td', { 'data-field': st, class: (st === 'missing' || st === 'corrupt' || st === 'failed') && copies[st] ? 'bad' : null },
          el('span', { 'data-count': '' }, String(copies[st] || 0)),
          el('div', { class: 'muted', 'data-bytes': String(sizes[st] || 0) }, bytes(sizes[st] || 0)))));
    });
    replace('stores-table', table(['store', 'role', 'tier', 'type', 'health', 'latency', 'object lock'].concat(STATES), rows));
  }

  /** Per-second rates of the cumulative counters of every serve ("copied.objects@node"), summed over serves. */
  function rates(series, prefix) {
    const sum = new Map();
    for (const [name, line] of Object.entries(series)) {
      if (!name.startsWith(prefix + '@')) continue;
      for (let i = 1; i < line.at.length; i++) {
        const dt = line.at[i] - line.at[i - 1];
        const dv = line.values[i] - line.values[i - 1];
        if (dt > 0) sum.set(line.at[i], (sum.get(line.at[i]) || 0) + Math.max(0, dv) / dt); // a restart resets a counter
      }
    }
    const at = [...sum.keys()].sort((a, b) => a - b);
    return { at, values: at.map((t) => sum.get(t)) };
  }

  function renderReplication(status, history, failed) {
    need(status);
    const q = status.replication;
    const series = (history && history.series) || {};
    const copyRate = rates(series, 'copied.objects');
    const byteRate = rates(series, 'copied.bytes');
    const last = (r) => (r.values.length ? r.values[r.values.length - 1] : 0);
    const figure = (id, label, value, bad) => el('div', { class: 'figure', id }, el('b', { class: bad ? 'bad' : null }, value), label);
    replace('replication-figures',
      figure('queue-depth', 'jobs waiting', String(q.depth), false),
      figure('queue-lag', 'oldest waiting (lag)', secs(q.oldestPendingSeconds), q.oldestPendingSeconds > 300),
      figure('queue-failed', 'failed jobs', String(q.failed), q.failed > 0),
      figure('objects', 'objects in the ledger', String(status.objects), false),
      figure('copy-rate', 'copies/s (last sample)', last(copyRate).toFixed(1), false),
      figure('byte-rate', 'copied/s (last sample)', bytes(Math.round(last(byteRate))), false));
    const depth = series['queue.depth'] || { at: [], values: [] };
    const lag = series['queue.lag_seconds'] || { at: [], values: [] };
    chart('chart-queue', 'Queue over 24 h', depth.at, [{ label: 'jobs waiting', values: depth.values, scale: 'n' },
      { label: 'lag (s)', values: align(depth.at, lag), scale: 's' }]);
    chart('chart-rate', 'Copies over 24 h', copyRate.at, [{ label: 'copies/s', values: copyRate.values, scale: 'n' },
      { label: 'kB/s', values: align(copyRate.at, byteRate).map((v) => (v === null ? null : v / 1e3)), scale: 's' }]);
    renderFailed(need(failed).failed);
  }

  function align(at, line) {
    const m = new Map(line.at.map((t, i) => [t, line.values[i]]));
    return at.map((t) => (m.has(t) ? m.get(t) : null));
  }

  function renderFailed(jobs) {
    const admin = me && me.scope === 'admin';
    if (!jobs.length) {
      replace('failed-jobs', el('p', { class: 'ok' }, 'none'));
      return;
    }
    const retry = async (key) => {
      try {
        const r = await api('jobs/retry' + (key ? '?key=' + encodeURIComponent(key) : ''), { method: 'POST' });
        $('updated').textContent = r.requeued + ' job(s) put back in the queue';
        refresh();
      } catch (e) {
        $('updated').textContent = 'retry refused: ' + e.message;
      }
    };
    const rows = jobs.map((j) => el('tr', {}, el('td', {}, el('code', {}, j.key)), el('td', {}, String(j.attempts)),
      el('td', { class: 'bad' }, j.lastError || ''), el('td', {}, time(j.enqueuedAt)),
      el('td', {}, admin ? el('button', { type: 'button', onclick: () => retry(j.key) }, 'retry') : '')));
    replace('failed-jobs', admin ? el('button', { type: 'button', id: 'retry-all', onclick: () => retry(null) }, 'retry all failed jobs') : null,
      el('div', { class: 'table-wrap' }, table(['key', 'attempts', 'last error', 'enqueued', ''], rows)));
  }

  function renderBackups(backups, status) {
    need(backups);
    const sources = {};
    for (const b of backups.backups) (sources[b.source] = sources[b.source] || []).push(b);
    for (const s of Object.keys(backups.nextDue)) sources[s] = sources[s] || [];
    const wal = {};
    for (const w of (status && status.wal) || []) wal[w.source] = w;
    const parts = Object.entries(sources).map(([source, list]) => {
      const next = Object.entries(backups.nextDue[source] || {}).map(([k, t]) => k + ': ' + (t ? time(t) : 'now (none yet)')).join(' · ');
      const w = wal[source];
      const rows = list.slice(0, 20).map((b) => el('tr', {}, el('td', {}, b.kind), el('td', {}, time(b.finishedAt)), el('td', {}, bytes(b.sizeBytes)),
        el('td', {}, b.retainUntil ? time(b.retainUntil) : 'no lock'), el('td', {}, time(b.keepUntil)), el('td', {}, b.stores.join(', ')),
        el('td', {}, el('code', { class: 'muted' }, b.id))));
      return el('div', { 'data-source': source },
        el('h3', {}, source),
        el('p', {}, 'next scheduled: ' + (next || 'none scheduled')),
        w ? el('p', { 'data-field': 'window' }, 'restorable to any time from ' + (backups.restorableFrom[source] ? time(backups.restorableFrom[source])
          : 'no backup yet') + ' to ' + (w.durableAt ? time(w.durableAt) + ' (the log stored last)' : 'nothing yet: no log stored')) : null,
        w && w.gapFrom ? el('p', { class: 'bad' }, 'the log from ' + w.gapFrom + ' to ' + w.gapTo + ' was never stored (found ' + time(w.gapAt)
          + '): no restore crosses it') : null,
        list.length ? el('div', { class: 'chart', id: 'timeline-' + source }) : null,
        list.length ? el('div', { class: 'table-wrap' }, table(['kind', 'finished', 'size', 'locked until', 'kept until', 'stores', 'id'], rows))
          : el('p', { class: 'bad' }, 'no backup yet'));
    });
    replace('backups-body', parts.length ? parts : el('p', { class: 'muted' }, 'no backup sources configured'));
    for (const [source, list] of Object.entries(sources)) if (list.length) timeline(source, list);
  }

  /** Each backup as a point: when it finished, and its size; one series per kind. */
  function timeline(source, list) {
    const kinds = [...new Set(list.map((b) => b.kind))];
    const at = [...new Set(list.map((b) => Date.parse(b.finishedAt) / 1000))].sort((a, b) => a - b);
    chart('timeline-' + source, 'Backups of ' + source + ' (size in MB)', at, kinds.map((k) => ({
      label: k, scale: 'n', points: true,
      values: at.map((t) => {
        const b = list.find((x) => x.kind === k && Date.parse(x.finishedAt) / 1000 === t);
        return b ? b.sizeBytes / 1e6 : null;
      }),
    })));
  }

  function renderDrills(drills, alerts) {
    need(drills);
    const firing = ((alerts && alerts.alerts) || []).filter((a) => a.firing && a.name.includes('drill'));
    const byKind = {};
    for (const r of drills.runs) (byKind[r.kind] = byKind[r.kind] || []).push(r);
    const parts = Object.entries(byKind).map(([kind, runs]) => {
      const r = runs[0];
      const stale = firing.some((a) => a.name === kind + '-drill-stale');
      return el('div', { class: r.ok && !stale ? null : 'red', 'data-drill': kind, 'data-ok': String(r.ok && !stale) },
        el('h3', {}, kind + ' drill: ', verdict(r.ok, 'passed', 'FAILED'), ' ', el('span', { class: 'muted' }, time(r.finishedAt))),
        stale ? el('p', { class: 'bad' }, firing.filter((a) => a.name === kind + '-drill-stale').map((a) => a.message).join('; ')) : null,
        el('p', {}, 'RPO (backup age) ' + secs(r.backupAgeSeconds) + ' · RTO ' + secs(r.restoreSeconds) + (r.backupId ? ' · backup ' + r.backupId : '')),
        el('ul', {}, r.checks.map((c) => el('li', {}, verdict(c.ok, 'ok', 'FAIL'), ' ', c.name + ': ', el('span', { class: 'muted' }, c.detail)))));
    });
    replace('drills-body', firing.filter((a) => !byKind[a.name.replace(/-drill-stale$/, '')]).map((a) => el('p', { class: 'bad red' }, a.message)),
      parts.length ? parts : el('p', { class: 'bad' }, 'no drill has run yet: `bunker drill db`'));
    const db = (byKind.db || []).filter((r) => r.restoreSeconds !== null).reverse();
    chart('chart-drills', 'Database drills: achieved RPO and RTO', db.map((r) => Date.parse(r.finishedAt) / 1000),
      [{ label: 'RTO (s)', values: db.map((r) => r.restoreSeconds), scale: 's' }, { label: 'RPO (h)', values: db.map((r) => (r.backupAgeSeconds === null ? null : r.backupAgeSeconds / 3600)), scale: 'n' }]);
  }

  function renderAlerts(alerts) {
    need(alerts);
    const weekAgo = Date.now() - 7 * 864e5;
    const list = alerts.alerts.filter((a) => a.firing || (a.resolvedAt && Date.parse(a.resolvedAt) > weekAgo));
    replace('alerts-body', list.length ? el('ul', {}, list.map((a) => el('li', { 'data-alert': a.name },
      a.firing ? el('span', { class: 'bad' }, 'FIRING ') : el('span', { class: 'ok' }, 'resolved '), el('b', {}, a.name), ': ', a.message,
      el('span', { class: 'muted' }, a.firing ? ' (since ' + time(a.since) + ')' : ' (resolved ' + time(a.resolvedAt) + ')'))))
      : el('p', { class: 'ok' }, 'no alert firing or resolved in the last 7 days'));
  }

  function renderDeletion(status) {
    need(status);
    const l = status.lifecycle;
    replace('deletion-body', el('ul', {},
      el('li', {}, 'in the trash: ', el('b', {}, String(l.objects.trashed || 0)), ' objects'),
      el('li', {}, 'waiting for purge (deleted, copies kept until their lock ends): ', el('b', {}, String((l.objects.deleted || 0) + (l.objects.deleting || 0)))),
      el('li', {}, 'next purge: ', time(l.nextPurge)),
      el('li', {}, 'deletion brake: ', l.deletionBrake === 'ok' ? el('span', { class: 'ok' }, 'ok (purges run)') : el('span', { class: 'bad' }, l.deletionBrake))));
  }

  function renderDr(dr, audits) {
    need(dr);
    need(audits);
    const last = audits.audits[0];
    // The form stays in the page between refreshes (what is typed survives them); only its visibility follows the scope.
    $('audit-form').hidden = !(me && me.scope === 'admin');
    const line = $('audit-last');
    line.className = audits.overdue ? 'bad' : '';
    line.textContent = (last ? 'last recovery audit: ' + time(last.at) + ' by ' + last.by + (last.note ? ' — ' + last.note : '')
      : 'no recovery audit recorded yet') + (audits.overdue ? ' (overdue: one is expected every ' + audits.every + ')' : '');
    const rows = dr.scenarios.map((s) => el('tr', {}, el('td', {}, el('b', {}, s.name)), el('td', {}, s.impact || ''), el('td', {}, s.rpo),
      el('td', {}, s.rto), el('td', {}, s.lastProven ? time(s.lastProven) : 'never'), el('td', { class: 'muted' }, s.evidence)));
    replace('dr-table', table(['scenario', 'continuity impact', 'data lost (RPO)', 'back in (RTO)', 'last proven', 'evidence'], rows));
  }

  function renderRunbook(book) {
    const parts = [el('h2', {}, 'Recovery runbook'), el('p', { class: 'muted' }, 'Written from the live configuration ' + book.config + ' at ' + time(book.generatedAt)
      + '. `bunker dr runbook` prints the same.')];
    for (const s of book.scenarios) {
      parts.push(el('section', { 'data-scenario': s.id },
        el('h3', {}, s.name),
        el('p', {}, el('b', {}, 'Continuity impact: '), s.impact),
        el('p', {}, el('b', {}, 'Last proven: '), s.proven || 'never', ''),
        el('ol', {}, s.steps.map((st) => el('li', {}, st.text, st.command ? el('pre', {}, st.command) : null,
          st.needs ? el('p', { class: 'muted' }, 'needs: ' + st.needs) : null)))));
    }
    replace('runbook-body', parts);
  }

  /** Axis labels with as many decimals as small values need (0.002 MB/s is not 0). */
  function ticks(u, values) {
    return values.map((v) => (v === null ? '' : Math.abs(v) >= 100 || v === 0 ? String(Math.round(v)) : Number(v.toPrecision(2)).toString()));
  }

  function chart(id, title, at, lines) {
    const target = $(id);
    if (!target || typeof uPlot === 'undefined') return;
    if (charts[id]) charts[id].destroy();
    delete charts[id];
    target.setAttribute('data-points', String(at.length));
    if (!at.length) {
      replace(id, el('p', { class: 'muted' }, title + ': no data yet'));
      return;
    }
    target.replaceChildren();
    const css = getComputedStyle(document.documentElement);
    const fg = css.getPropertyValue('--fg').trim() || '#888';
    const grid = css.getPropertyValue('--line').trim() || '#ccc';
    const colors = [css.getPropertyValue('--accent').trim() || '#0b5cad', css.getPropertyValue('--warn').trim() || '#c60',
      css.getPropertyValue('--ok').trim() || '#1a7f37'];
    const width = Math.max(260, target.clientWidth || 400);
    const opts = {
      title, width, height: 200,
      scales: { x: { time: true, range: (u, min, max) => (min === max ? [min - 3600, max + 3600] : [min, max]) } },
      series: [{}].concat(lines.map((l, i) => (l.points
        ? { label: l.label, stroke: colors[i % 3], fill: colors[i % 3], scale: l.scale, paths: () => null, points: { show: true, size: 9 } }
        : { label: l.label, stroke: colors[i % 3], width: 2, scale: l.scale, spanGaps: true }))),
      axes: [{ stroke: fg, grid: { stroke: grid } }, { scale: 'n', stroke: fg, grid: { stroke: grid }, values: ticks },
        { scale: 's', side: 1, stroke: fg, grid: { show: false }, values: ticks }],
    };
    charts[id] = new uPlot(opts, [at].concat(lines.map((l) => l.values)), target);
  }

  let resizing = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizing);
    resizing = setTimeout(refresh, 300);
  });
  window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => refresh()); // the charts take their colours when drawn
  start();
})();
