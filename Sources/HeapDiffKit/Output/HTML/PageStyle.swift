/// The report's style sheet: system fonts (nothing to download), two charts
/// side by side on a wide window, tables with right-aligned tabular numbers.
enum PageStyle {
    static let css = #"""
        :root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --panel: #ffffff; --page: #f6f8fa;
                --grow: #b42318; --shrink: #1a7f37; --mono: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; }
        * { box-sizing: border-box; }
        body { margin: 0; background: var(--page); color: var(--ink);
               font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
        header, main, footer { max-width: 1400px; margin: 0 auto; padding: 0 20px; }
        header { padding-top: 18px; }
        h1 { font-size: 22px; margin: 0 0 4px; overflow-wrap: anywhere; }
        h2 { font-size: 16px; margin: 0 0 6px; }
        .summary, .note { color: var(--muted); margin: 0 0 10px; overflow-wrap: anywhere; }
        .panel { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 14px 16px;
                 margin: 0 0 16px; min-width: 0; }
        .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 16px; }
        .charts .panel { margin: 0 0 16px; }
        .chart-box { position: relative; height: 340px; }
        .table-box { overflow-x: auto; }
        table.data { border-collapse: collapse; width: 100%; }
        table.data th, table.data td { padding: 3px 8px; border-bottom: 1px solid var(--line); text-align: left;
                                       white-space: nowrap; }
        table.data th { font-weight: 600; background: var(--page); position: sticky; top: 0; }
        table.data td.number, table.data th.number { text-align: right; font-variant-numeric: tabular-nums;
                                                     font-family: var(--mono); font-size: 13px; }
        table.data td.site { font-family: var(--mono); font-size: 13px; white-space: normal; overflow-wrap: anywhere; }
        td.grow { color: var(--grow); }
        td.shrink { color: var(--shrink); }
        .verdict { display: inline-block; padding: 0 6px; border-radius: 9px; font-size: 12px; background: #eaeef2; }
        .verdict.steady-growth { background: #ffebe9; color: var(--grow); font-weight: 600; }
        .verdict.plateau { background: #fff8c5; color: #7d4e00; }
        .verdict.shrinking { background: #dafbe1; color: var(--shrink); }
        .controls { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; margin: 0 0 10px; }
        .controls input[type=search] { min-width: 260px; padding: 3px 6px; }
        button { padding: 2px 10px; }
        #flame-box { position: relative; width: 100%; }
        #flame-canvas { display: block; cursor: pointer; }
        #flame-tooltip { position: absolute; pointer-events: none; background: rgba(31, 35, 40, 0.92); color: #fff;
                         padding: 4px 8px; border-radius: 4px; font-size: 12px; white-space: pre; max-width: 90%;
                         overflow: hidden; text-overflow: ellipsis; z-index: 2; }
        footer { color: var(--muted); font-size: 12px; padding-bottom: 20px; }
        """#
}
