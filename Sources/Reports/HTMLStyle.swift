/// The report's only stylesheet, inlined: the file must open the same from
/// a mail attachment, a CI artefact or paper, with no network and no fonts
/// to fetch. System fonts, tabular figures in tables, one readable width,
/// and print rules that keep a chart and its caption on one page.
let reportStyle = """
    :root { --ink: #1d1d1f; --muted: #5f6368; --line: #d9d9de; --bad: #D55E00; --good: #007A5A; --warn: #8a5a00; }
    * { box-sizing: border-box; }
    body { margin: 0; color: var(--ink); background: #fff;
      font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue", Arial, sans-serif; }
    main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; }
    h1 { font-size: 15px; font-weight: 600; color: var(--muted); margin: 0 0 4px; letter-spacing: .02em; }
    h2 { font-size: 21px; margin: 40px 0 12px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
    h3 { font-size: 17px; margin: 28px 0 8px; }
    code, .mono { font-family: ui-monospace, "SF Mono", "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 13px; }
    .headline { border-left: 8px solid var(--muted); padding: 12px 20px 14px; background: #f6f6f8; }
    .headline.bad { border-color: var(--bad); background: #fdf1ea; }
    .headline.good { border-color: var(--good); background: #edf7f3; }
    .status { font-size: 32px; font-weight: 700; line-height: 1.2; margin: 0 0 6px; }
    .headline.bad .status { color: #a94300; }
    .headline.good .status { color: var(--good); }
    .findings { margin: 4px 0 10px; padding-left: 20px; font-size: 17px; }
    .counts { margin: 0 0 10px; color: var(--muted); }
    .facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; font-size: 14px; }
    .facts dt { color: var(--muted); }
    .facts dd { margin: 0; overflow-wrap: anywhere; }
    .notice { margin: 12px 0 0; padding: 10px 16px; border: 1px solid; border-radius: 4px; }
    .notice.warning { border-color: #E69F00; background: #fff6e0; color: #4a3200; }
    .notice.info { border-color: var(--line); background: #fafafa; }
    .notice p { margin: 2px 0; }
    .scroll { overflow-x: auto; }
    table { border-collapse: collapse; width: 100%; font-size: 13.5px; font-variant-numeric: tabular-nums; }
    th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
    th { font-weight: 600; color: var(--muted); border-bottom: 2px solid var(--line); white-space: nowrap; }
    th[scope=row] { border-bottom: 1px solid var(--line); white-space: normal; }
    td.num, th.num { text-align: right; white-space: nowrap; }
    td.why { color: var(--muted); min-width: 14em; }
    td.rule { white-space: nowrap; }
    .muted { color: var(--muted); }
    tr.regression td { background: #fdf1ea; }
    .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 700;
      letter-spacing: .02em; white-space: nowrap; border: 1px solid #bbb; }
    .series-summary { font-weight: 400; color: var(--muted); font-size: 15px; margin-left: 6px; }
    .chart-row { display: flex; flex-wrap: wrap; gap: 20px; }
    figure { flex: 1 1 500px; margin: 0; min-width: 0; }
    figure.wide { flex-basis: 100%; }
    figcaption { font-weight: 600; font-size: 14px; margin-bottom: 2px; }
    svg { display: block; width: 100%; height: auto; font-family: inherit; }
    .legend { display: flex; flex-wrap: wrap; gap: 2px 16px; margin: 4px 0 0; font-size: 12.5px; color: var(--muted); }
    .key { display: inline-block; width: 12px; height: 12px; margin-right: 5px; vertical-align: -1px; border-radius: 2px; }
    .key.dot { border-radius: 50%; }
    .key.ring { border-radius: 50%; border: 2px solid var(--ink); background: none; }
    .key.band { background: rgba(86, 180, 233, .35); }
    .key.dash { height: 0; width: 16px; border-top: 2px dashed var(--muted); border-radius: 0; vertical-align: 3px; }
    .key.tri { width: 0; height: 0; border-left: 6px solid transparent; border-right: 6px solid transparent;
      border-bottom: 10px solid #CC79A7; border-radius: 0; }
    details { margin-top: 24px; border: 1px solid var(--line); border-radius: 4px; padding: 6px 14px; }
    summary { cursor: pointer; font-weight: 600; }
    .columns { display: flex; flex-wrap: wrap; gap: 28px; }
    .columns > div { flex: 1 1 320px; min-width: 0; }
    footer { margin-top: 40px; color: var(--muted); font-size: 13px; }
    @media print {
      body { font-size: 10.5pt; }
      main { max-width: none; padding: 0; }
      .headline, .notice, tr.regression td, .badge { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
      section.series, figure, tr, .headline { break-inside: avoid; }
      h2, h3 { break-after: avoid; }
      details { border: none; padding: 0; }
      details::details-content { content-visibility: visible; display: block; }
      summary { list-style: none; }
    }
    """
