// A bundle's page (README "Dashboard"): what it is and needs (libc mode, glibc and kernel floors,
// the libraries grafted in from the build host, from its manifest), its verdict on every reference
// platform and every host with the reasons, and the runs verified on hosts.

import type { StoredBundle } from '../db/database.js';
import type { VerifiedRun, CellVerdict } from '../db/dashboard-queries.js';
import type { DistroVerdict, HostVerdict, PlatformVerdict, ProblemMessage, Verdict } from '../../proto/messages.js';
import { html, type Html } from './escape.js';
import { page, verdictBadge, when } from './layout.js';

/** The reference rows as the page got them: made, still being made, or failed (with why). */
export type ReferenceState =
  | { readonly state: 'made'; readonly platforms: readonly PlatformVerdict[] }
  | { readonly state: 'pending' }
  | { readonly state: 'failed'; readonly why: string };

interface Grafted {
  readonly soname: string;
  readonly path: string;
  readonly origin: string;
  readonly debianPackage: string;
  readonly neededBy: readonly string[];
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/**
 * The grafted libraries of a stored manifest. It was checked when the bundle was stored, but by the
 * server of that day: read field by field, anything unexpected shown as empty.
 */
export function graftedOf(manifest: string): Grafted[] | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(manifest);
  } catch {
    return null;
  }
  const list = (parsed as { grafted?: unknown } | null)?.grafted;
  if (!Array.isArray(list)) return [];
  return list.slice(0, 10_000).map((g: unknown) => {
    const o = (typeof g === 'object' && g !== null ? g : {}) as Record<string, unknown>;
    return {
      soname: text(o.soname),
      path: text(o.path),
      origin: text(o.origin),
      debianPackage: text(o.debianPackage),
      neededBy: Array.isArray(o.neededBy) ? o.neededBy.filter((x): x is string => typeof x === 'string') : [],
    };
  });
}

/** compat-query's verdicts in the dashboard's words: a verified run is "verified", a prediction "runs". */
export function cellVerdict(v: Verdict | string): CellVerdict {
  return v === 'runs' ? 'verified' : v === 'predicted' ? 'runs' : v === 'fails' ? 'fails' : 'unknown';
}

function problems(list: readonly ProblemMessage[]): Html {
  if (list.length === 0) return html``;
  const [first, ...rest] = list;
  return rest.length === 0
    ? html`<span class="reason">${first!.message}</span>`
    : html`<details>
        <summary class="reason">${first!.message}</summary>
        <ul>
          ${rest.map((p) => html`<li>${p.severity}: ${p.message}</li>`)}
        </ul>
      </details>`;
}

function references(state: ReferenceState): Html {
  if (state.state === 'pending')
    return html`<p class="muted" id="references-pending">
      Being predicted in the server's worker; reload in a moment.
    </p>`;
  if (state.state === 'failed') return html`<p class="muted" id="references-failed">Not predicted: ${state.why}</p>`;
  if (state.platforms.length === 0) return html`<p class="muted">None (the bundle is not unpacked in the store).</p>`;
  return html`<table class="list" id="references">
    <thead>
      <tr>
        <th>platform</th>
        <th>what</th>
        <th>predicted from</th>
        <th>verdict</th>
        <th>reasons</th>
        <th>not confirmed</th>
      </tr>
    </thead>
    <tbody>
      ${state.platforms.map(
        (p) =>
          html`<tr data-platform="${p.platform}">
            <td><code>${p.platform}</code></td>
            <td>${p.title}</td>
            <td>${p.basis}</td>
            <td>${verdictBadge(p.verdict === 'predicted' ? 'runs' : 'fails')}</td>
            <td>${p.verdict === 'predicted' ? '' : problems(p.result?.problems ?? [])}</td>
            <td>${p.uncertain.join('; ')}</td>
          </tr> `,
      )}
    </tbody>
  </table>`;
}

/** Whether the prediction agreed with the run, for a host where a run was verified. */
function agreement(h: HostVerdict): string {
  if (h.result?.kind !== 'verified') return '';
  return h.predictionAgrees ? 'yes' : 'no';
}

function hosts(list: readonly HostVerdict[], distros: readonly DistroVerdict[]): Html {
  if (list.length === 0) return html`<p class="muted">No hosts yet.</p>`;
  const reason = (h: HostVerdict): Html => {
    if (h.verdict !== 'fails' || h.result === null) return html``;
    const smoke =
      h.result.loads && h.result.smokeRan && h.result.smokeExit !== 0
        ? html` <span class="reason"
            >smoke command exited ${h.result.smokeExit}: ${h.result.smokeOutput.split('\n')[0] ?? ''}</span
          >`
        : html``;
    return html`${problems(h.result.problems)}${smoke}`;
  };
  return html`<table class="list" id="distros">
      <thead>
        <tr>
          <th>distro</th>
          <th>verified</th>
          <th>predicted to run</th>
          <th>fails</th>
          <th>unknown</th>
        </tr>
      </thead>
      <tbody>
        ${distros.map(
          (d) =>
            html`<tr>
              <td>${d.distro}</td>
              <td>${d.runs}</td>
              <td>${d.predicted}</td>
              <td>${d.fails}</td>
              <td>${d.unknown}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    <h3>Per host</h3>
    <table class="list" id="hosts">
      <thead>
        <tr>
          <th>host</th>
          <th>distro</th>
          <th>verdict</th>
          <th>reasons</th>
          <th>prediction agrees with the run</th>
        </tr>
      </thead>
      <tbody>
        ${list.map(
          (h) =>
            html`<tr data-host="${h.host!.name}">
              <td><a href="/hosts/${encodeURIComponent(h.host!.name)}">${h.host!.name}</a></td>
              <td>${h.host!.distroId} ${h.host!.distroVersion}</td>
              <td>${verdictBadge(cellVerdict(h.verdict))}</td>
              <td>${reason(h)}</td>
              <td>${agreement(h)}</td>
            </tr> `,
        )}
      </tbody>
    </table>`;
}

function verified(runs: readonly VerifiedRun[]): Html {
  if (runs.length === 0)
    return html`<p class="muted">No runs verified on a host yet (agents' checks, pyrelo deploy).</p>`;
  return html`<table class="list" id="verified">
    <thead>
      <tr>
        <th>host</th>
        <th>result</th>
        <th>smoke command</th>
        <th>first reason</th>
        <th>when</th>
      </tr>
    </thead>
    <tbody>
      ${runs.map(
        (r) =>
          html`<tr data-host="${r.host}">
            <td><a href="/hosts/${encodeURIComponent(r.host)}">${r.host}</a></td>
            <td>${verdictBadge(r.runs ? 'verified' : 'fails')}</td>
            <td>${r.smokeRan ? `exited ${r.smokeExit}` : 'not run'}</td>
            <td>${r.reason ?? ''}</td>
            <td>${when(r.checkedAt)}</td>
          </tr> `,
      )}
    </tbody>
  </table>`;
}

export function bundlePage(
  bundle: StoredBundle,
  hostVerdicts: readonly HostVerdict[],
  distros: readonly DistroVerdict[],
  runs: readonly VerifiedRun[],
  referenceState: ReferenceState,
): string {
  const grafted = graftedOf(bundle.manifest);
  const facts: [string, string | Html][] = [
    ['digest', html`<code>${bundle.digest}</code>`],
    ['archive', `${bundle.archiveName} (${bundle.size} bytes)`],
    ['python', bundle.pythonVersion || 'unknown'],
    ['libc', bundle.libc === 'bundle' ? 'bundled (runs on its own glibc)' : `the host's (${bundle.libc})`],
    ['glibc floor', bundle.glibcFloor || 'none'],
    ['kernel floor', bundle.kernelFloor || 'none'],
    ['ELF files with needs', String(bundle.elfFiles)],
    ['added', when(bundle.addedAt)],
  ];
  const graftedTable =
    grafted === null
      ? html`<p class="muted">The stored manifest is not JSON.</p>`
      : grafted.length === 0
        ? html`<p class="muted">None.</p>`
        : html`<table class="list" id="grafted">
            <thead>
              <tr>
                <th>soname</th>
                <th>path in the bundle</th>
                <th>from</th>
                <th>Debian package</th>
                <th>needed by</th>
              </tr>
            </thead>
            <tbody>
              ${grafted.map(
                (g) =>
                  html`<tr>
                    <td><code>${g.soname}</code></td>
                    <td><code>${g.path}</code></td>
                    <td><code>${g.origin}</code></td>
                    <td>${g.debianPackage}</td>
                    <td>${g.neededBy.join(', ')}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`;
  return page(
    `bundle ${bundle.name}`,
    html`<h1>Bundle <span id="bundle-name">${bundle.name}</span></h1>
      <dl class="facts" id="facts">
        ${facts.map(
          ([k, v]) =>
            html`<dt>${k}</dt>
              <dd data-fact="${k}">${v}</dd>`,
        )}
      </dl>
      <h2>Grafted libraries</h2>
      ${graftedTable}
      <h2>Reference platforms</h2>
      ${references(referenceState)}
      <h2>Hosts</h2>
      ${hosts(hostVerdicts, distros)}
      <h2>Verified runs</h2>
      ${verified(runs)}`,
  );
}
