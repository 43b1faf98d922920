// A host's page (README "Dashboard"): what its inventory says (distro, libc, kernel, architecture,
// page size, when it was collected and received), when it was last seen, every bundle's verdict on
// it, and its deployments.

import type { Deployment } from '../../proto/messages.js';
import type { HostCheck, HostSummary } from '../db/dashboard-queries.js';
import { html, type Html } from './escape.js';
import { page, verdictBadge, when } from './layout.js';

function summary(h: HostSummary, connected: boolean): Html {
  const libc = h.libcKind === '' ? '' : `${h.libcKind} ${h.libcVersion}`.trim();
  const facts: [string, string | Html][] = [
    ['distro', h.distroId === '' ? 'unknown (no inventory yet)' : `${h.distroId} ${h.distroVersion}`],
    ['libc', libc || 'unknown'],
    ['kernel', h.kernel || 'unknown'],
    ['architecture', h.arch || 'unknown'],
    [
      'page size',
      h.inventorySha256 === null
        ? 'unknown'
        : h.pageSize === null
          ? '4096 (not recorded by the inventory; assumed)'
          : `${h.pageSize} bytes`,
    ],
    ['inventory collected', h.collectedAt === null ? 'unknown' : when(h.collectedAt)],
    [
      'inventory received',
      h.inventoryReceivedAt === null ? 'none' : `${when(h.inventoryReceivedAt)} (version ${h.inventoryVersion})`,
    ],
    ['inventory sha256', h.inventorySha256 === null ? 'none' : html`<code>${h.inventorySha256}</code>`],
    ['last seen', h.lastSeen === null ? 'never' : when(h.lastSeen)],
    [
      'agent',
      connected
        ? `connected${h.agentVersion ? `, version ${h.agentVersion}` : ''}`
        : h.agentVersion
          ? `not connected (last version ${h.agentVersion})`
          : 'not connected',
    ],
    ['added', `${when(h.addedAt)} (${h.source})`],
  ];
  return html`<dl class="facts" id="facts">
    ${facts.map(
      ([k, v]) =>
        html`<dt>${k}</dt>
          <dd data-fact="${k}">${v}</dd>`,
    )}
  </dl>`;
}

function checks(list: readonly HostCheck[]): Html {
  if (list.length === 0) return html`<p class="muted">No bundle has been predicted or run here yet.</p>`;
  return html`<table class="list" id="checks">
    <thead>
      <tr>
        <th>bundle</th>
        <th>verdict</th>
        <th>first reason</th>
        <th>checked</th>
      </tr>
    </thead>
    <tbody>
      ${list.map(
        (c) =>
          html`<tr data-bundle="${c.bundleDigest}">
            <td>
              <a href="/bundles/${encodeURIComponent(c.bundleDigest)}">${c.bundleName}</a>
              <code class="muted">${c.bundleDigest.slice(0, 12)}</code>
            </td>
            <td>${verdictBadge(c.verdict)}</td>
            <td>${c.reason ?? ''}</td>
            <td>${when(c.checkedAt)}</td>
          </tr> `,
      )}
    </tbody>
  </table>`;
}

function deployments(list: readonly Deployment[]): Html {
  if (list.length === 0) return html`<p class="muted">No deployments (pyrelo deploy).</p>`;
  return html`<table class="list" id="deployments">
    <thead>
      <tr>
        <th>bundle</th>
        <th>release</th>
        <th>prefix</th>
        <th>status</th>
        <th>reason</th>
        <th>bytes sent</th>
        <th>started</th>
        <th>finished</th>
      </tr>
    </thead>
    <tbody>
      ${list.map(
        (d) =>
          html`<tr>
            <td><a href="/bundles/${encodeURIComponent(d.bundleDigest)}">${d.bundleName}</a></td>
            <td><code>${d.release}</code></td>
            <td><code>${d.prefix}</code></td>
            <td>${d.status}</td>
            <td>${d.reason}</td>
            <td>${d.bytesSent}</td>
            <td>${when(d.startedAt)}</td>
            <td>${when(d.finishedAt)}</td>
          </tr> `,
      )}
    </tbody>
  </table>`;
}

export function hostPage(
  host: HostSummary,
  connected: boolean,
  bundleChecks: readonly HostCheck[],
  deploymentList: readonly Deployment[],
): string {
  return page(
    `host ${host.name}`,
    html`<h1>Host <span id="host-name">${host.name}</span></h1>
      ${summary(host, connected)}
      <h2>Bundles</h2>
      ${checks(bundleChecks)}
      <h2>Deployments</h2>
      ${deployments(deploymentList)}`,
  );
}
