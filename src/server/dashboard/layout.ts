// The frame every dashboard page shares (README "Dashboard"): one stylesheet served by the
// listener (no inline style or script, so the Content-Security-Policy can forbid both), a header
// with the pages, and the verdicts' words, colours and signs.

import { html, type Html, type HtmlValue } from './escape.js';
import type { CellVerdict } from '../db/dashboard-queries.js';

/** A verdict's class (one letter: 100,000 cells of the matrix carry one each), sign and words. */
export const VERDICT_LOOK: Readonly<Record<CellVerdict, { cls: string; sign: string; words: string }>> = {
  verified: { cls: 'v', sign: '✔', words: 'verified: ran on the host' },
  runs: { cls: 'r', sign: '✓', words: 'runs: predicted to run' },
  fails: { cls: 'f', sign: '✗', words: 'fails: will not run' },
  unknown: { cls: 'u', sign: '?', words: 'unknown: no inventory or prediction yet' },
};

export const STYLESHEET = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d2330; background: #fafbfc; }
header { background: #1d2330; color: #fff; padding: 8px 16px; display: flex; gap: 24px; align-items: baseline; }
header a { color: #fff; text-decoration: none; }
header .brand { font-weight: 600; font-size: 16px; }
main { padding: 12px 16px; }
h1 { font-size: 20px; margin: 4px 0 12px; }
h2 { font-size: 16px; margin: 20px 0 8px; }
a { color: #0b57d0; }
table.list { border-collapse: collapse; background: #fff; }
table.list th, table.list td { border: 1px solid #dde1e6; padding: 3px 8px; text-align: left; vertical-align: top; }
table.list th { background: #eef1f5; font-weight: 600; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; margin: 0; }
dl.facts dt { color: #5b6474; }
dl.facts dd { margin: 0; }
code, .mono { font-family: ui-monospace, monospace; font-size: 12px; }
.muted { color: #5b6474; }
details summary { cursor: pointer; }
.legend span { display: inline-block; margin-right: 14px; }
.legend b { display: inline-block; width: 18px; text-align: center; }
/* The matrix: tables of fixed layout (a width not auto, column widths from the colgroup), so that
   cells are placed without measuring each, and the host rows in tables of 40 that the browser lays
   out and paints only near the screen (content-visibility): 100,000 cells render in well under a
   second (README "Dashboard"). */
table.mx { border-collapse: separate; border-spacing: 1px; table-layout: fixed; width: 1px; background: #fff; }
table.mx col.name { width: 240px; }
table.mx col.b { width: 18px; }
div.rows { content-visibility: auto; contain-intrinsic-size: auto 800px; }
table.mx td { height: 18px; padding: 0; text-align: center; font-size: 12px; }
table.mx th { text-align: left; font-weight: normal; white-space: nowrap; overflow: hidden; padding: 0 8px 0 4px; }
table.mx thead th.b { height: 120px; padding: 4px 0; vertical-align: bottom; }
table.mx thead th.b a { writing-mode: vertical-rl; transform: rotate(180deg); text-decoration: none; }
table.mx tr.group th { background: #eef1f5; font-weight: 600; padding: 4px; overflow: visible; }
table.mx tr.d th { font-weight: 600; }
table.mx tr.d td { font-size: 9px; }
.v, td.v { background: #1e8e3e; color: #fff; }
.r, td.r { background: #a8dab5; color: #0d3d1b; }
.f, td.f { background: #d93025; color: #fff; }
.p, td.p { background: #f9ab00; color: #3c2a00; }
.u, td.u { background: #e8eaed; color: #80868b; }
${Object.values(VERDICT_LOOK)
  .map(({ cls, sign }) => `tr.h td.${cls}::after, tr.ref td.${cls}::after { content: '${sign}'; }`)
  .join('\n')}
span.verdict { padding: 0 6px; border-radius: 3px; white-space: nowrap; }
`;

export function page(title: string, body: Html | HtmlValue[]): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · pyrelo</title>
        <link rel="stylesheet" href="/style.css" />
      </head>
      <body>
        <header>
          <a class="brand" href="/">pyrelo</a><a href="/">compatibility matrix</a><a href="/fleet">fleet</a>
        </header>
        <main>${body}</main>
      </body>
    </html> `.markup;
}

export function verdictBadge(verdict: CellVerdict): Html {
  const look = VERDICT_LOOK[verdict];
  return html`<span class="verdict ${look.cls}" data-verdict="${verdict}">${look.sign} ${verdict}</span>`;
}

export function legend(): Html {
  return html`<p class="legend">
    ${(Object.keys(VERDICT_LOOK) as CellVerdict[]).map(
      (v) => html`<span><b class="${VERDICT_LOOK[v].cls}">${VERDICT_LOOK[v].sign}</b> ${VERDICT_LOOK[v].words}</span>`,
    )}<span
      ><b class="p">½</b> some hosts of the distro run it, some do not (a distro's row counts the hosts that run each
      bundle)</span
    >
  </p>`;
}

/** A timestamp as stored (ISO 8601), shortened to the minute in UTC; '' for none. */
export function when(iso: string | null | undefined): string {
  if (!iso) return '';
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(iso) ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : iso;
}
