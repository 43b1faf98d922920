// The fleet's page (README "Dashboard"): what the enrolled hosts are made of, the same answer as
// `pyrelo fleet` (fleet-query.ts): each fact counted per value with the first hosts' names, the
// hosts whose inventory is stale, and those without one.

import type { FleetResponse, FleetValue } from '../../proto/messages.js';
import { html, type Html } from './escape.js';
import { page, when } from './layout.js';

/** The facts in the order `pyrelo fleet` prints them, each with its heading. */
const FACTS: readonly (readonly [keyof FleetResponse, string])[] = [
  ['distros', 'distribution'],
  ['libcs', 'C library'],
  ['kernels', 'kernel'],
  ['architectures', 'architecture'],
  ['isaLevels', 'x86-64 ISA level'],
  ['pageSizes', 'page size'],
];

function hostLinks(names: readonly string[], total: number): Html {
  const more = total - names.length;
  return html`${names.map((n, i) => html`${i === 0 ? '' : ', '}<a href="/hosts/${encodeURIComponent(n)}">${n}</a>`)}${
    more > 0 ? html` <span class="muted">and ${more} more</span>` : ''
  }`;
}

function factTable(id: string, heading: string, values: readonly FleetValue[], hosts: number): Html {
  return html`<h2>${heading}</h2>
    <table class="list" id="${id}">
      <thead>
        <tr>
          <th>${heading}</th>
          <th>hosts</th>
          <th>share</th>
          <th>first hosts</th>
        </tr>
      </thead>
      <tbody>
        ${values.map(
          (v) =>
            html`<tr data-value="${v.value}">
              <td>${v.value}</td>
              <td data-hosts="${String(v.hosts)}">${String(v.hosts)}</td>
              <td>${hosts === 0 ? '' : `${Math.round((100 * v.hosts) / hosts)} %`}</td>
              <td>${hostLinks(v.names, v.hosts)}</td>
            </tr>`,
        )}
      </tbody>
    </table>`;
}

export function fleetPage(f: FleetResponse): string {
  const hosts = f.withInventory;
  const stale = f.stale;
  return page(
    'fleet',
    html`<h1>Fleet</h1>
      <p id="counts">
        ${String(f.hosts)} hosts, ${String(hosts)} with an inventory; ${String(f.staleCount)} stale (inventory older
        than ${String(f.staleAfterDays)} days). As of ${when(f.now)}.
      </p>
      ${FACTS.map(([key, heading]) => factTable(key, heading, f[key] as FleetValue[], hosts))}
      <h2>Stale inventories</h2>
      ${
        stale.length === 0
          ? html`<p class="muted" id="stale">None.</p>`
          : html`<table class="list" id="stale">
              <thead>
                <tr>
                  <th>host</th>
                  <th>collected (or received)</th>
                  <th>age</th>
                  <th>source</th>
                </tr>
              </thead>
              <tbody>
                ${stale.map(
                  (s) =>
                    html`<tr data-host="${s.name}">
                      <td><a href="/hosts/${encodeURIComponent(s.name)}">${s.name}</a></td>
                      <td>${when(s.collectedAt) || 'unknown'}</td>
                      <td>${s.ageDays < 0 ? 'unknown' : `${Math.floor(s.ageDays)} days`}</td>
                      <td>${s.source}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
      <h2>Without an inventory</h2>
      ${
        f.withoutInventory.length === 0
          ? html`<p class="muted" id="without">None.</p>`
          : html`<p id="without">${hostLinks(f.withoutInventory, f.withoutInventory.length)}</p>`
      }`,
  );
}
