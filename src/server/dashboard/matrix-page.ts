// The compatibility matrix (README "Dashboard"): bundles across, and down the reference platforms,
// then each distro (a row of counts) followed by its hosts; each cell a verdict with the first
// reason in its title. Built as one string over the arrays matrix() read in one pass: 1,000 hosts x
// 100 bundles is 100,000 cells, so the cells are written with escapeHtml directly rather than a
// template each.

import type { PlatformVerdict } from '../../proto/messages.js';
import { VERDICTS, type CellVerdict, type Matrix } from '../db/dashboard-queries.js';
import { escapeHtml, html, Html, urlSegment } from './escape.js';
import { legend, page, VERDICT_LOOK } from './layout.js';

/** Per bundle (the matrix's order), its reference platforms' verdicts, or null while they are not made. */
export type ReferenceRows = readonly (readonly PlatformVerdict[] | null)[];

/**
 * The cells' markup without a reason, per verdict, made once. A cell is its class alone: the sign
 * comes from the stylesheet (::after) and the end tag is implied, which halves the page's nodes
 * and takes a sixth off its bytes, and so off the browser's parsing (README "Dashboard").
 */
const PLAIN_CELLS: Readonly<Record<CellVerdict, string>> = Object.fromEntries(
  VERDICTS.map((v) => [v, `<td class=${VERDICT_LOOK[v].cls}>`]),
) as Record<CellVerdict, string>;

/**
 * A cell's markup. Failing cells of a fleet share a few reasons (the glibc version missing on a
 * distro), so each reason is escaped once per page in `escaped`.
 */
function cell(verdict: CellVerdict, reason: string | undefined, escaped: Map<string, string>): string {
  if (reason === undefined) return PLAIN_CELLS[verdict];
  let title = escaped.get(reason);
  if (title === undefined) {
    title = escapeHtml(reason);
    escaped.set(reason, title);
  }
  const look = VERDICT_LOOK[verdict];
  return `<td class=${look.cls} title="${title}">`;
}

function distroName(distroId: string, distroVersion: string): string {
  return distroId === '' ? 'unknown distro' : `${distroId}:${distroVersion || '?'}`;
}

function referenceRows(m: Matrix, references: ReferenceRows, escaped: Map<string, string>): string {
  // The platforms in the catalog's order, as the first bundle with made rows lists them.
  const platforms = new Map<string, { title: string; basis: string }>();
  for (const rows of references)
    for (const p of rows ?? []) if (!platforms.has(p.platform)) platforms.set(p.platform, p);
  if (platforms.size === 0) return '';
  const byBundle = references.map((rows) => new Map((rows ?? []).map((p) => [p.platform, p])));
  let out = `<tbody class=ref><tr class=group><th colspan=${m.bundles.length + 1}>` + 'Reference platforms</th></tr>';
  for (const [platform, { title, basis }] of platforms) {
    const label = `${escapeHtml(platform)} <span class=muted>${escapeHtml(basis)}</span>`;
    out += `<tr class=ref><th title="${escapeHtml(`${title}: predicted from ${basis}`)}">${label}</th>`;
    for (let b = 0; b < m.bundles.length; b++) {
      const verdict = byBundle[b]!.get(platform);
      if (verdict === undefined) {
        out += cell('unknown', references[b] === null ? 'reference rows not made yet' : 'not in the catalog', escaped);
        continue;
      }
      const fails = verdict.verdict !== 'predicted';
      const first = verdict.result?.problems.find((p) => p.severity === 'error') ?? verdict.result?.problems[0];
      out += cell(fails ? 'fails' : 'runs', fails ? (first?.message ?? 'no reason recorded') : undefined, escaped);
    }
    out += '</tr>';
  }
  return `${out}</tbody>`;
}

/** A distro's row: how many of its hosts run each bundle, coloured by the hosts' verdicts together. */
function distroRow(m: Matrix, name: string, first: number, end: number): string {
  const n = m.bundles.length;
  const hosts = `${end - first} host${end - first === 1 ? '' : 's'}`;
  let out = `<tr class=d><th>${escapeHtml(name)} <span class=muted>${hosts}</span></th>`;
  for (let b = 0; b < n; b++) {
    const counts = [0, 0, 0, 0];
    let reason: string | undefined;
    for (let h = first; h < end; h++) {
      const v = m.verdicts[h * n + b]!;
      counts[v]! += 1;
      if (reason === undefined && VERDICTS[v] === 'fails') reason = m.reasons.get(h * n + b);
    }
    const [unknown, runs, verified, fails] = counts as [number, number, number, number];
    const total = end - first;
    const cls =
      verified === total
        ? 'v'
        : runs + verified === total
          ? 'r'
          : fails === total
            ? 'f'
            : unknown === total
              ? 'u'
              : 'p';
    const title =
      `runs on ${runs + verified} of ${total} (verified on ${verified}), fails on ${fails}, unknown on ${unknown}` +
      (reason === undefined ? '' : `: ${reason}`);
    out += `<td class=${cls} title="${escapeHtml(title)}">${runs + verified}</td>`;
  }
  return `${out}</tr>`;
}

/** Host rows per table: each table is laid out and painted only when scrolled near (content-visibility). */
const ROWS_PER_TABLE = 40;

export function matrixPage(m: Matrix, references: ReferenceRows): string {
  const n = m.bundles.length;
  const escaped = new Map<string, string>();
  // Every table repeats the columns, so that all align under the header with fixed layout.
  const columns = `<colgroup><col class=name>${'<col class=b>'.repeat(n)}</colgroup>`;
  const parts: string[] = [];
  if (m.hosts.length > 0)
    parts.push(
      `<table class=mx>${columns}<tbody><tr class=group><th colspan=${n + 1}>` +
        'Hosts, by distro</th></tr></tbody></table>',
    );
  for (let first = 0; first < m.hosts.length;) {
    const { distroId, distroVersion } = m.hosts[first]!;
    let end = first;
    while (end < m.hosts.length && m.hosts[end]!.distroId === distroId && m.hosts[end]!.distroVersion === distroVersion)
      end++;
    let rows = distroRow(m, distroName(distroId, distroVersion), first, end);
    for (let h = first; h < end; h++) {
      const host = m.hosts[h]!;
      rows += `<tr class=h><th><a href="/hosts/${urlSegment(host.name)}">${escapeHtml(host.name)}</a></th>`;
      for (let b = 0; b < n; b++) rows += cell(VERDICTS[m.verdicts[h * n + b]!]!, m.reasons.get(h * n + b), escaped);
      rows += '</tr>';
      if ((h - first + 1) % ROWS_PER_TABLE === 0 || h === end - 1) {
        parts.push(`<div class=rows><table class=mx>${columns}<tbody>${rows}</tbody></table></div>`);
        rows = '';
      }
    }
    first = end;
  }
  const header = m.bundles
    .map(
      (b) =>
        `<th class=b><a href="/bundles/${urlSegment(b.digest)}" title="${escapeHtml(
          `${b.name} ${b.digest.slice(0, 12)}, libc ${b.libc}${b.glibcFloor ? `, needs glibc ${b.glibcFloor}` : ''}`,
        )}">${escapeHtml(b.name)}</a></th>`,
    )
    .join('');
  const distros = new Set(m.hosts.map((h) => `${h.distroId}:${h.distroVersion}`)).size;
  const table =
    n === 0
      ? html`<p>No bundles yet: <code>pyrelo bundles add BUNDLE.tar.gz</code>.</p>`
      : new Html(
          `<div class=matrix id=matrix><table class=mx>${columns}` +
            `<thead><tr><th>platform / distro / host</th>${header}</tr></thead>` +
            `${referenceRows(m, references, escaped)}</table>${parts.join('')}</div>`,
        );
  return page(
    'compatibility matrix',
    html`<h1>Compatibility matrix</h1>
      <p class="muted">
        ${n} bundle${n === 1 ? '' : 's'} × ${m.hosts.length} host${m.hosts.length === 1 ? '' : 's'} in ${distros}
        distro${distros === 1 ? '' : 's'}. Hover a cell for its first reason; a bundle or host name opens its page.
      </p>
      ${legend()} ${table}`,
  );
}
