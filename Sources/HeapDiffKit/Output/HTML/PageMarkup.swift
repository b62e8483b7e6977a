/// The report's sections, empty: `PageScript` fills them from the JSON.
/// Static markup, so nothing from a snapshot is ever parsed as HTML.
enum PageMarkup {
    static let sections = #"""
        <main>
        <div class="charts">
        <section class="panel" id="memory">
        <h2>Process memory</h2>
        <p class="note">Resident set size (RSS) and the traced heap's live bytes at each snapshot.</p>
        <div class="chart-box"><canvas id="memory-chart" role="img" aria-label="RSS and traced live bytes over time"></canvas></div>
        </section>
        <section class="panel" id="sites">
        <h2>Top sites</h2>
        <p class="note" id="sites-note"></p>
        <div class="chart-box"><canvas id="sites-chart" role="img" aria-label="live bytes of the top sites over time"></canvas></div>
        </section>
        </div>
        <section class="panel" id="trend">
        <h2>Trend</h2>
        <p class="note" id="trend-summary"></p>
        <div class="table-box"><table id="trend-table" class="data"></table></div>
        <p class="note" id="trend-more"></p>
        </section>
        <section class="panel" id="diff">
        <h2>Diff</h2>
        <div class="controls">
        <label>from <select id="diff-old"></select></label>
        <label>to <select id="diff-new"></select></label>
        </div>
        <div class="table-box"><table id="diff-table" class="data"></table></div>
        <p class="note" id="diff-total"></p>
        <button type="button" id="diff-all" hidden>show all</button>
        </section>
        <section class="panel" id="flame">
        <h2>Flame graph</h2>
        <div class="controls">
        <label><input type="radio" name="flame-mode" value="live" checked> <span id="flame-live-label">live bytes</span></label>
        <label><input type="radio" name="flame-mode" value="growth"> <span id="flame-growth-label">growth</span></label>
        <input type="search" id="flame-search" placeholder="search frames" aria-label="search frames">
        <button type="button" id="flame-reset">reset zoom</button>
        <span class="note" id="flame-match"></span>
        </div>
        <p class="note">Whole stacks, outermost frame at the top, inlined calls as frames of their own; a frame's width \#
        is the bytes of the stacks through it. Click a frame to zoom in on it, an outer frame to zoom back out.</p>
        <div id="flame-box"><canvas id="flame-canvas"></canvas><div id="flame-tooltip" hidden></div></div>
        </section>
        </main>
        <footer>Written by heapdiff report. Self-contained: charts by Chart.js, inlined.</footer>
        """#
}
