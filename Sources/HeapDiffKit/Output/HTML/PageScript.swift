/// The report's script: reads the JSON element, draws the two charts with
/// Chart.js, fills the trend and diff tables (the diff recomputed in the
/// browser for any two snapshots), wires the flame graph's controls, and
/// finally records what was drawn on `#render-status` as data-* attributes:
/// a headless browser's DOM dump shows whether the page really rendered
/// (data-status is "rendered", or "error: …" naming what failed).
///
/// Text from the data is only ever set with textContent, never as HTML.
enum PageScript {
    static let source = #"""
        (() => {
          'use strict';
          const status = document.getElementById('render-status');
          const problems = [];
          const problem = (message) => { problems.push(message); status.dataset.status = 'error: ' + problems.join('; '); };
          window.addEventListener('error', (event) => problem(String(event.message)));
          const $ = (id) => document.getElementById(id);
          const data = JSON.parse($('heapdiff-data').textContent);
          const snapshots = data.snapshots;

          // As heapdiff's SizeFormatting: 3 significant digits under 100 of a unit.
          const formatSize = (bytes, signed) => {
            const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
            const sign = (text, value) => (signed && value >= 0 ? '+' : '') + text;
            let value = bytes;
            for (let i = 0; i < units.length; i++) {
              if (i > 0 && Math.abs(value) < 100) return sign(value.toFixed(1), value) + ' ' + units[i];
              if (Math.abs(value) < 10 * 1024 || i === units.length - 1) return sign(value.toFixed(0), value) + ' ' + units[i];
              value /= 1024;
            }
          };
          // Axis ticks: the largest unit the value fills, so 5 MiB is not "5120 KiB".
          const formatTick = (bytes) => {
            const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
            let value = bytes, unit = 0;
            while (Math.abs(value) >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
            return String(Number(value.toFixed(2))) + ' ' + units[unit];
          };
          const formatCount = (count, signed) => (signed && count >= 0 ? '+' : '') + count.toLocaleString('en');
          const describe = (index) => {
            const s = snapshots[index];
            return '#' + s.seq + (s.label ? ' “' + s.label + '”' : '') + ' at ' + s.seconds.toFixed(1) + ' s (' + s.trigger + ')';
          };
          // Long paths keep their end, where file:line is.
          const shorten = (text, length) => (text.length <= length ? text : '…' + text.slice(text.length - length + 1));
          const cell = (row, text, className, title) => {
            const td = document.createElement(row.parentElement && row.parentElement.tagName === 'THEAD' ? 'th' : 'td');
            td.textContent = text;
            if (className) td.className = className;
            if (title) td.title = title;
            row.appendChild(td);
            return td;
          };
          const header = (table, columns) => {
            const row = table.createTHead().insertRow();
            for (const [text, className] of columns) cell(row, text, className);
          };
          const changeClass = (value) => 'number' + (value > 0 ? ' grow' : value < 0 ? ' shrink' : '');

          // --- Charts (Chart.js) ---
          const palette = ['#4e79a7', '#e15759', '#f28e2b', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7',
                           '#9c755f', '#17becf', '#bcbd22', '#8c564b', '#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
          // Chart.js would step by decimal bytes (977 KiB, 1953 KiB): step by 1, 2,
          // 2.5 or 5 times a power of ten of the unit of the axis's maximum
          // (0.5 MiB, not 500 KiB, on an axis that goes to 2 MiB).
          const byteStep = (maximum) => {
            const top = Math.max(maximum, 1), raw = top / 6;
            const unit = Math.pow(1024, Math.max(0, Math.floor(Math.log(top) / Math.log(1024))));
            const scale = Math.pow(10, Math.floor(Math.log10(raw / unit)));
            return ([1, 2, 2.5, 5, 10].find((step) => step * scale * unit >= raw) || 10) * scale * unit;
          };
          const chartOptions = (stacked, maximum) => ({
            animation: false, responsive: true, maintainAspectRatio: false,
            interaction: { mode: 'nearest', axis: 'x', intersect: false },
            elements: { point: { radius: snapshots.length > 60 ? 0 : 2 }, line: { borderWidth: 2 } },
            scales: {
              x: { type: 'linear', title: { display: true, text: 'seconds since start' } },
              y: { stacked: stacked, beginAtZero: true,
                   ticks: { stepSize: byteStep(maximum), callback: (value) => formatTick(value) } },
            },
            plugins: {
              legend: { position: 'bottom', labels: { boxWidth: 12 } },
              tooltip: { callbacks: {
                title: (items) => (items.length ? describe(items[0].dataIndex) : ''),
                label: (item) => (item.dataset.fullLabel || item.dataset.label) + ': ' + formatSize(item.parsed.y),
              } },
            },
          });
          const drawnPoints = (chart) => chart.data.datasets.reduce((sum, _, i) => sum + chart.getDatasetMeta(i).data.length, 0);
          const record = (name, chart) => {
            status.dataset[name + 'Width'] = String(chart.width);
            status.dataset[name + 'Height'] = String(chart.height);
            status.dataset[name + 'Datasets'] = String(chart.data.datasets.length);
            status.dataset[name + 'Points'] = String(drawnPoints(chart));
          };
          const series = (values) => values.map((y, i) => ({ x: snapshots[i].seconds, y: y }));

          const drawMemoryChart = () => {
            const chart = new Chart($('memory-chart'), {
              type: 'line',
              data: { datasets: [
                { label: 'RSS', data: series(snapshots.map((s) => s.rss)), borderColor: palette[0], backgroundColor: palette[0] },
                { label: 'traced live bytes', data: series(snapshots.map((s) => s.live_bytes)),
                  borderColor: palette[1], backgroundColor: palette[1] },
              ] },
              options: chartOptions(false, Math.max(...snapshots.map((s) => Math.max(s.rss, s.live_bytes)))),
            });
            record('memory', chart);
          };

          const drawSitesChart = () => {
            const datasets = data.stacked.sites.map((index, n) => {
              const site = data.sites[index], color = palette[n % palette.length];
              return { label: shorten(site.label, 48), fullLabel: site.label, data: series(site.sizes),
                       borderColor: color, backgroundColor: color + 'b3', fill: n === 0 ? 'origin' : '-1' };
            });
            if (data.stacked.other.some((bytes) => bytes !== 0)) {
              datasets.push({ label: 'other', data: series(data.stacked.other), borderColor: '#8b949e',
                              backgroundColor: '#8b949e66', fill: datasets.length === 0 ? 'origin' : '-1' });
            }
            $('sites-note').textContent = 'Live bytes of the ' + data.stacked.sites.length + ' top sites (by '
              + data.key_type + ', ranked as in the trend table), stacked, and of all the others.';
            const highest = Math.max(...snapshots.map((_, i) => datasets.reduce((sum, set) => sum + set.data[i].y, 0)));
            const chart = new Chart($('sites-chart'), { type: 'line', data: { datasets: datasets },
                                                        options: chartOptions(true, highest) });
            record('sites', chart);
          };

          // --- Trend table ---
          const rate = (s) => (s.bytes_per_second === null || s.bytes_per_second === undefined
            ? '—' : formatSize(s.bytes_per_second, true) + '/s');
          const renderTrend = () => {
            const table = $('trend-table');
            if (!data.trend) {
              $('trend-summary').textContent = 'No trend: ' + data.trend_unavailable + '.';
              table.hidden = true;
              return 0;
            }
            const trend = data.trend;
            const left = snapshots.length - trend.seqs.length;
            $('trend-summary').textContent = 'Fitted over ' + trend.seqs.length + ' snapshots'
              + (left > 0 ? ' (the exit snapshot left out, as heapdiff trend does)' : '')
              + ', rates from the recent half. Traced heap: ' + formatSize(trend.heap.first) + ' → '
              + formatSize(trend.heap.last) + ', now ' + (trend.axis === 'time' ? rate(trend.heap) + ', ' : '')
              + formatSize(trend.heap.bytes_per_snapshot, true) + '/snapshot (r² ' + trend.heap.r2.toFixed(2) + '): '
              + trend.heap.verdict + '. RSS: ' + formatSize(trend.rss.first) + ' → ' + formatSize(trend.rss.last) + '.';
            header(table, [['#', 'number'], ['verdict'], ['rate now', 'number'], ['per snapshot', 'number'], ['r²', 'number'],
                           ['live now', 'number'], [data.key_type]]);
            const body = table.createTBody();
            trend.rows.forEach((site, i) => {
              const row = body.insertRow(), s = site.series;
              cell(row, String(i + 1), 'number');
              const badge = document.createElement('span');
              badge.className = 'verdict ' + s.verdict.replace(/ /g, '-');
              badge.textContent = s.verdict;
              cell(row, '').appendChild(badge);
              cell(row, rate(s), changeClass(s.bytes_per_second || 0));
              cell(row, formatSize(s.bytes_per_snapshot, true), changeClass(s.bytes_per_snapshot));
              cell(row, s.r2.toFixed(2), 'number');
              cell(row, formatSize(s.last), 'number');
              cell(row, site.label, 'site', site.function || undefined);
            });
            if (trend.rows.length === 0) $('trend-more').textContent = "No call site's live memory changed.";
            if (trend.more > 0) $('trend-more').textContent = '… and ' + trend.more + ' more (heapdiff report --limit 0 shows all).';
            return trend.rows.length;
          };

          // --- Diff between any two snapshots ---
          let showAll = false;
          const renderDiff = () => {
            const from = Number($('diff-old').value), to = Number($('diff-new').value);
            const rows = [];
            const add = (label, fn, sizes, counts) => {
              const row = { label: label, fn: fn, size: sizes[to], diff: sizes[to] - sizes[from],
                            count: counts[to], countDiff: counts[to] - counts[from] };
              if (row.size === 0 && row.diff === 0 && row.count === 0 && row.countDiff === 0) return;
              if (Math.abs(row.diff) < data.min_size_diff) return;
              rows.push(row);
            };
            for (const site of data.sites) add(site.label, site.function, site.sizes, site.counts);
            const others = data.other_sites;
            if (others.sites > 0) add('(' + others.sites + ' smaller sites)', null, others.sizes, others.counts);
            rows.sort((a, b) => Math.abs(b.diff) - Math.abs(a.diff) || b.size - a.size || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
            const shown = data.limit === 0 || showAll ? rows : rows.slice(0, data.limit);
            const table = $('diff-table');
            table.replaceChildren();
            header(table, [[data.key_type], ['size', 'number'], ['change', 'number'], ['count', 'number'], ['change', 'number'],
                           ['average', 'number']]);
            const body = table.createTBody();
            for (const r of shown) {
              const row = body.insertRow();
              cell(row, r.label, 'site', r.fn || undefined);
              cell(row, formatSize(r.size), 'number');
              cell(row, formatSize(r.diff, true), changeClass(r.diff));
              cell(row, formatCount(r.count), 'number');
              cell(row, formatCount(r.countDiff, true), changeClass(r.countDiff));
              cell(row, r.count > 0 ? formatSize(r.size / r.count) : '—', 'number');
            }
            const a = snapshots[from], b = snapshots[to];
            $('diff-total').textContent = (rows.length === 0 ? 'Nothing changed. ' : '') + 'total: ' + formatSize(b.total_size) + ' ('
              + formatSize(b.total_size - a.total_size, true) + ') in ' + formatCount(b.total_count) + ' blocks ('
              + formatCount(b.total_count - a.total_count, true) + ')';
            const more = $('diff-all');
            more.hidden = shown.length === rows.length;
            more.textContent = 'show all ' + rows.length + ' rows';
            status.dataset.diffRows = String(shown.length);
            return shown.length;
          };
          const setUpDiff = () => {
            for (const id of ['diff-old', 'diff-new']) {
              const select = $(id);
              snapshots.forEach((_, i) => select.add(new Option(describe(i), String(i))));
              select.addEventListener('change', renderDiff);
            }
            $('diff-old').value = '0';
            $('diff-new').value = String(snapshots.length - 1);
            $('diff-all').addEventListener('click', () => { showAll = true; renderDiff(); });
            return renderDiff();
          };

          // --- Flame graph; #mode=growth&search=TEXT in the address selects a view ---
          const setUpFlame = () => {
            const flame = data.flame;
            const graph = new HeapdiffFlameGraph($('flame-canvas'), $('flame-tooltip'), { names: flame.names, formatSize: formatSize });
            $('flame-live-label').textContent = 'live bytes in ' + describe(flame.live_snapshot);
            $('flame-growth-label').textContent = 'growth from #' + snapshots[flame.base_snapshot].seq + ' to #'
              + snapshots[flame.live_snapshot].seq;
            const params = new URLSearchParams(location.hash.slice(1));
            const report = () => {
              const m = graph.matched, total = graph.root.value;
              $('flame-match').textContent = graph.query === '' ? '' : m.frames + (m.frames === 1 ? ' frame matches: ' : ' frames match: ') + formatSize(m.bytes)
                + ' (' + (total > 0 ? (100 * m.bytes / total).toFixed(1) : '0') + '% of ' + formatSize(total) + ')';
              Object.assign(status.dataset, {
                flameMode: mode(), flameWidth: String(graph.canvas.clientWidth), flameHeight: String(graph.canvas.clientHeight),
                flameRects: String(graph.drawnRects), flameMatchedFrames: String(m.frames), flameMatchedBytes: String(m.bytes),
              });
            };
            const mode = () => document.querySelector('input[name=flame-mode]:checked').value;
            const show = () => { graph.setTree(mode() === 'growth' ? flame.growth : flame.live); report(); };
            const remember = () => {
              const search = $('flame-search').value;
              history.replaceState(null, '', '#mode=' + mode() + (search ? '&search=' + encodeURIComponent(search) : ''));
            };
            if (params.get('mode') === 'growth') document.querySelector('input[value=growth]').checked = true;
            $('flame-search').value = params.get('search') || '';
            graph.query = $('flame-search').value.trim().toLowerCase();
            for (const input of document.querySelectorAll('input[name=flame-mode]')) {
              input.addEventListener('change', () => { show(); remember(); });
            }
            $('flame-search').addEventListener('input', () => { graph.search($('flame-search').value); report(); remember(); });
            $('flame-reset').addEventListener('click', () => { graph.reset(); report(); });
            $('flame-canvas').addEventListener('click', () => report());
            window.addEventListener('resize', () => report());
            show();
          };

          const step = (name, work) => {
            try { return work(); } catch (error) { problem(name + ': ' + (error && error.message ? error.message : error)); }
          };
          if (typeof Chart === 'undefined') {
            problem('Chart.js did not load');
            status.dataset.chartjs = 'missing';
          } else {
            status.dataset.chartjs = Chart.version;
            step('memory chart', drawMemoryChart);
            step('sites chart', drawSitesChart);
          }
          status.dataset.trendRows = String(step('trend table', renderTrend) || 0);
          step('diff table', setUpDiff);
          step('flame graph', setUpFlame);
          if (problems.length === 0) status.dataset.status = 'rendered';
        })();
        """#
}
