// `pyrelo compat BUNDLE [--json]` and `pyrelo compat --distro ID:VERSION`: where a bundle runs,
// by distro and by host, and why not where it does not; or which bundles run on a distro.

import type { Blocker, CompatResponse, DistroResponse, HostVerdict } from '../../proto/messages.js';
import { writeOut } from '../../common/terminal-text.js';
import { answered, withControl } from '../control-client.js';
import { InputError } from '../../elf/find-elf-files.js';
import { distroOf, table, type ControlOptions } from './hosts.js';
import { BASIS_LABELS } from '../../compat/platform-prediction.js';

const LABELS: Readonly<Record<string, string>> = {
  runs: 'runs (verified)',
  predicted: 'predicted to run',
  fails: 'will not run',
  unknown: 'unknown',
};

function detail(h: HostVerdict): string {
  const r = h.result;
  if (r === null) return 'no inventory and no run';
  if (h.verdict === 'fails') {
    const first = r.problems.find((p) => p.severity === 'error');
    if (first !== undefined) return `${r.kind}: ${first.message}`;
    if (r.smokeRan) return `smoke command exited ${r.smokeExit}: ${r.smokeOutput.split('\n')[0] ?? ''}`;
    return r.kind;
  }
  if (r.kind === 'verified')
    return (
      `smoke ${r.smokeRan ? `exit ${r.smokeExit}` : 'not run'}; ` +
      `${h.predictionAgrees ? 'prediction agrees' : 'no matching prediction'}`
    );
  return `from inventory ${r.inventorySha256.slice(0, 12)}`;
}

/** "37 of 50 hosts (74 %)": a share short of all never rounds up to 100 %. */
export function shareLine(c: Pick<CompatResponse, 'hostsRunning' | 'hostsJudged' | 'hosts'>): string {
  const unknown = c.hosts.length - c.hostsJudged;
  const tail = unknown > 0 ? `; ${unknown} unknown (no inventory and no run)` : '';
  if (c.hostsJudged === 0) return `runs on no host known yet${tail}`;
  const percent = Math.floor((100 * c.hostsRunning) / c.hostsJudged);
  return `runs on ${c.hostsRunning} of ${c.hostsJudged} host${c.hostsJudged === 1 ? '' : 's'} (${percent} %)${tail}`;
}

/** "needs GLIBC_2.34: blocks 12 hosts (rhel:8: 9, debian:11: 3)" */
export function blockerLine(b: Blocker): string {
  const what = b.kind === 'smoke' || b.kind === '' ? b.requirement : `needs ${b.requirement}`;
  const distros = b.distros.map((d) => `${d.distro}: ${d.hosts}`).join(', ');
  return `${what}: blocks ${b.hosts} host${b.hosts === 1 ? '' : 's'} (${distros})`;
}

export function renderCompat(c: CompatResponse): string[] {
  const bundle = answered(c.bundle, 'bundle');
  const lines = [
    `${bundle.name} ${bundle.digest.slice(0, 12)} (libc ${bundle.libc}` +
      `${bundle.glibcFloor ? `, glibc floor ${bundle.glibcFloor}` : ''})`,
    shareLine(c),
    ...c.blockers.map((b) => `  ${blockerLine(b)}`),
    '',
    'by distro:',
  ];
  lines.push(
    ...table([
      ['  DISTRO', 'RUNS', 'PREDICTED', 'WILL NOT RUN', 'UNKNOWN'],
      ...c.distros.map((d) => [
        `  ${d.distro}`,
        String(d.runs),
        String(d.predicted),
        String(d.fails),
        String(d.unknown),
      ]),
    ]),
  );
  for (const d of c.distros.filter((x) => x.reasons.length > 0)) {
    lines.push(`  ${d.distro} will not run it:`);
    for (const reason of d.reasons) lines.push(`    ${reason}`);
  }
  const platforms = c.platforms ?? [];
  if (platforms.length > 0) {
    lines.push('', 'reference platforms (data/platforms/; no host needed):');
    lines.push(
      ...table([
        ['  PLATFORM', 'VERDICT', 'FROM', 'FIRST REASON'],
        ...platforms.map((p) => [
          `  ${p.platform}`,
          LABELS[p.verdict] ?? p.verdict,
          p.basis === 'inventory' || p.basis === 'reference' ? BASIS_LABELS[p.basis] : p.basis,
          p.verdict === 'fails' ? (p.result?.problems.find((x) => x.severity === 'error')?.message ?? '') : '',
        ]),
      ]),
    );
  }
  lines.push('', 'by host:');
  lines.push(
    ...table([
      ['  HOST', 'DISTRO', 'VERDICT', 'DETAIL'],
      ...c.hosts.map((h) => {
        const host = answered(h.host, 'host in a host verdict');
        return [`  ${host.name}`, distroOf(host), LABELS[h.verdict] ?? h.verdict, detail(h)];
      }),
    ]),
  );
  const others = c.others ?? [];
  if (others.length > 0) {
    lines.push(
      '',
      `${others.length} other build${others.length === 1 ? '' : 's'} named ${bundle.name}, older (pyrelo ` +
        'compat DIGEST answers for one):',
    );
    lines.push(
      ...table([
        ['  DIGEST', 'LIBC', 'GLIBC FLOOR', 'ADDED'],
        ...others.map((b) => [`  ${b.digest.slice(0, 12)}`, b.libc, b.glibcFloor || '-', b.addedAt]),
      ]),
    );
  }
  return lines;
}

export function renderDistro(distro: string, answer: DistroResponse): string[] {
  const reference = answer.basis === 'inventory' || answer.basis === 'reference';
  const lines = reference
    ? [
        `no host of ${distro} is enrolled: ${BASIS_LABELS[answer.basis as 'inventory' | 'reference']} ` +
          `(reference platform ${answer.platform}, data/platforms/)`,
      ]
    : [];
  if (answer.bundles.length === 0) return [...lines, `no bundle is known to run on ${distro}`];
  lines.push(
    ...table([
      ['NAME', 'DIGEST', 'VERDICT', reference ? 'FROM' : 'HOSTS'],
      ...answer.bundles.map((b) => {
        const info = answered(b.bundle, 'bundle in a distro answer');
        return [
          info.name,
          info.digest.slice(0, 12),
          LABELS[b.verdict] ?? b.verdict,
          reference ? `reference ${answer.platform}` : String(b.hosts),
        ];
      }),
    ]),
  );
  return lines;
}

export async function runCompat(bundle: string | undefined, o: ControlOptions & { distro?: string }): Promise<number> {
  if (o.distro !== undefined) {
    if (bundle !== undefined) throw new InputError(bundle, 'give either BUNDLE or --distro, not both');
    const distro = o.distro;
    const answer = await withControl(o.control, (c) => c.call('DistroBundles', { distro }));
    writeOut(o.json ? `${JSON.stringify(answer, null, 2)}\n` : `${renderDistro(distro, answer).join('\n')}\n`);
    return 0;
  }
  if (bundle === undefined)
    throw new InputError('pyrelo compat', 'give a BUNDLE (name or digest) or --distro ID:VERSION');
  const answer = await withControl(o.control, (c) => c.call('Compat', { bundle }));
  writeOut(o.json ? `${JSON.stringify(answer, null, 2)}\n` : `${renderCompat(answer).join('\n')}\n`);
  return 0;
}

/** `pyrelo hosts check BUNDLE HOST [--verify]`: the prediction, and the run on the host. */
export async function runHostCheck(
  bundle: string,
  host: string,
  o: ControlOptions & { verify?: boolean },
): Promise<number> {
  const answer = await withControl(o.control, (c) =>
    c.call('Check', { bundle, host, verify: o.verify ?? false, timeoutMs: 300_000 }),
  );
  if (o.json) {
    writeOut(`${JSON.stringify(answer, null, 2)}\n`);
  } else {
    const lines: string[] = [];
    for (const r of [answer.predicted, answer.verified]) {
      if (r === null) continue;
      lines.push(
        `${r.kind} on ${r.host}: ${r.runs ? 'runs' : 'will not run'} (${r.filesChecked} ELF files` +
          `${r.smokeRan ? `, smoke exit ${r.smokeExit}` : ''})`,
      );
      for (const p of r.problems.filter((x) => x.severity === 'error').slice(0, 10))
        lines.push(`  error: ${p.message}`);
    }
    if (answer.note) lines.push(`note: ${answer.note}`);
    writeOut(`${lines.join('\n')}\n`);
  }
  const final = answer.verified ?? answer.predicted;
  return final === null ? 1 : final.runs ? 0 : 1;
}
