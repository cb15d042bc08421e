'use strict';
// The cluster page: GET /v1/cluster every 2 seconds: the nodes, the layers each llm node holds and how many
// replicas each layer has, and recent throughput and latency from the difference of the coordinator's request
// totals between polls (kept for the last 5 minutes).
(() => {
  const POLL_MS = 2000;
  const KEEP = 150; // polls: 5 minutes
  const SVG = 'http://www.w3.org/2000/svg';
  const $ = (id) => document.getElementById(id);
  const samples = []; // { at, totals }

  function showError(message) {
    $('error').textContent = message;
    $('error').hidden = !message;
  }

  function svg(name, attributes, text) {
    const el = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attributes)) {
      el.setAttribute(k, String(v));
    }
    if (text !== undefined) {
      const title = document.createElementNS(SVG, 'title');
      title.textContent = text;
      el.append(title);
    }
    return el;
  }

  function label(attributes, content) {
    const el = svg('text', attributes);
    el.textContent = content;
    return el;
  }

  function cell(row, text, className) {
    const td = document.createElement('td');
    td.textContent = text;
    if (className) {
      td.className = className;
    }
    row.append(td);
    return td;
  }

  function nodes(status) {
    const body = $('nodes').tBodies[0];
    body.replaceChildren(...status.nodes.map((n) => {
      const row = document.createElement('tr');
      row.dataset.nodeId = n.id;
      const id = document.createElement('th');
      id.scope = 'row';
      id.textContent = n.id;
      row.append(id);
      cell(row, n.role);
      cell(row, n.address);
      cell(row, n.layers ? n.layers.start + '–' + n.layers.end : '');
      cell(row, n.device || '');
      cell(row, String(n.load));
      cell(row, n.healthy ? 'healthy' : 'unhealthy', n.healthy ? 'ok' : 'bad');
      return row;
    }));
  }

  // One row per llm node (its layer range as a bar), and a row of replicas per layer, darker with more.
  function coverage(status) {
    const layers = status.num_layers;
    const llm = status.nodes.filter((n) => n.layers);
    const left = 180;
    const width = 600;
    const row = 22;
    const unit = (width - left) / Math.max(1, layers);
    const height = row * (llm.length + 2) + 4;
    const picture = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', class: 'coverage-svg',
      'aria-label': `${layers} layers, ${status.layer_replicas.filter((c) => c > 0).length} of them held, by `
        + `${llm.length} llm nodes` });
    for (let l = 0; l < layers; l++) {
      picture.append(label({ x: left + (l + 0.5) * unit, y: 14, 'text-anchor': 'middle', class: 'axis' }, String(l)));
    }
    llm.forEach((n, i) => {
      const y = row * (i + 1);
      picture.append(label({ x: 0, y: y + 15, class: 'name' }, n.id.length > 26 ? n.id.slice(0, 25) + '…' : n.id));
      picture.append(svg('rect', { x: left + n.layers.start * unit + 1, y: y + 3,
        width: Math.max(2, (n.layers.end - n.layers.start) * unit - 2), height: row - 6, rx: 3,
        class: n.healthy ? 'range' : 'range unhealthy' }, `${n.id}: layers ${n.layers.start}–${n.layers.end}`));
    });
    const y = row * (llm.length + 1);
    picture.append(label({ x: 0, y: y + 15, class: 'name' }, 'replicas'));
    const most = Math.max(1, ...status.layer_replicas);
    status.layer_replicas.forEach((count, l) => {
      picture.append(svg('rect', { x: left + l * unit + 1, y: y + 3, width: Math.max(2, unit - 2), height: row - 6,
        class: count === 0 ? 'replicas none' : 'replicas', 'fill-opacity': count === 0 ? 1 : 0.3 + 0.7 * count / most },
      `layer ${l}: ${count} replica${count === 1 ? '' : 's'}`));
      picture.append(label({ x: left + (l + 0.5) * unit, y: y + 15, 'text-anchor': 'middle', class: 'count' },
          String(count)));
    });
    $('coverage').replaceChildren(picture);
  }

  function format(value, digits, unit) {
    return value === null || !isFinite(value) ? '–' : value.toFixed(digits) + (unit || '');
  }

  // Rates over the last minute of polls (or what there is of it).
  function rates(status) {
    const totals = status.requests;
    if (!totals) {
      return;
    }
    samples.push({ at: totals.read_at_ms, totals });
    while (samples.length > KEEP) {
      samples.shift();
    }
    const last = samples[samples.length - 1];
    const first = samples.find((s) => last.at - s.at <= 60000) || last;
    const seconds = (last.at - first.at) / 1000;
    const d = (k) => last.totals[k] - first.totals[k];
    const perSecond = seconds > 0 ? (k) => d(k) / seconds : () => null;
    $('rate-tokens').textContent = format(perSecond('generated_tokens'), 1);
    $('rate-requests').textContent = format(perSecond('finished'), 2);
    const firstTokens = d('first_token_count');
    $('rate-ttft').textContent = firstTokens > 0
      ? format(1000 * d('first_token_seconds_sum') / firstTokens, 0, ' ms') : '–';
    const finished = d('finished');
    $('rate-duration').textContent = finished > 0
      ? format(1000 * d('duration_seconds_sum') / finished, 0, ' ms') : '–';
    $('rate-active').textContent = totals.active + ' / ' + totals.queued;
    spark();
  }

  // Tokens per second between successive polls, over the kept polls.
  function spark() {
    const points = [];
    for (let i = 1; i < samples.length; i++) {
      const dt = (samples[i].at - samples[i - 1].at) / 1000;
      if (dt > 0) {
        points.push((samples[i].totals.generated_tokens - samples[i - 1].totals.generated_tokens) / dt);
      }
    }
    const chart = $('spark');
    chart.replaceChildren();
    if (points.length < 2) {
      return;
    }
    const top = Math.max(1, ...points);
    const step = 300 / (KEEP - 1);
    const offset = 300 - step * (points.length - 1);
    const d = points.map((p, i) => `${i ? 'L' : 'M'}${(offset + i * step).toFixed(1)},${(58 - 54 * p / top).toFixed(1)}`)
        .join(' ');
    chart.append(svg('path', { d, class: 'line' }));
    $('spark-caption').textContent = `Tokens per second over the last ${KEEP * POLL_MS / 60000} minutes (top of the `
        + `chart: ${top.toFixed(1)})`;
  }

  async function poll() {
    if (!$('paused').checked) {
      try {
        const status = await (await Api.call('/v1/cluster')).json();
        const healthy = status.nodes.filter((n) => n.healthy).length;
        $('summary').textContent = `${status.nodes.length} nodes (${healthy} healthy), `
            + (status.layers_covered ? `all ${status.num_layers} layers covered` : `NOT all ${status.num_layers} layers`
              + ' covered') + `, ${status.pipelines.length} complete `
            + `pipeline${status.pipelines.length === 1 ? '' : 's'}; plan epoch ${status.plan_epoch}; answered by `
            + status.coordinator_id + ' at ' + new Date().toLocaleTimeString() + '.';
        nodes(status);
        coverage(status);
        rates(status);
        showError('');
        document.body.dataset.ready = 'true';
      } catch (e) {
        showError('Cannot read the cluster status: ' + e.message);
      }
    }
    setTimeout(poll, POLL_MS);
  }

  poll();
})();
