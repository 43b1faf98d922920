// Where a main thread was kept busy: the longest runs of non-idle samples in a .cpuprofile (from
// scripts/cpu-profile.mjs or node --cpu-prof), each with its most frequent stacks. A run's length is
// wall time between idle samples, so it includes time the process was not scheduled.
//
//   node scripts/profile-stalls.mjs FILE.cpuprofile [MIN_MS (default 40)]

import { readFileSync } from 'node:fs';
import process from 'node:process';

const [file, minMs = '40'] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write('usage: node scripts/profile-stalls.mjs FILE.cpuprofile [MIN_MS]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parents = new Map();
for (const n of profile.nodes) for (const child of n.children ?? []) parents.set(child, n.id);

function stack(id) {
  const frames = [];
  for (let at = id; at !== undefined; at = parents.get(at)) {
    const frame = nodes.get(at).callFrame;
    frames.push(
      `${frame.functionName || '(anonymous)'} ${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber}`,
    );
  }
  return frames.slice(0, 10).join(' < ');
}

const runs = [];
let time = profile.startTime;
let start = null;
let stacks = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  time += profile.timeDeltas[i];
  const id = profile.samples[i];
  if (nodes.get(id).callFrame.functionName === '(idle)') {
    if (start !== null && time - start > Number(minMs) * 1000) runs.push({ ms: (time - start) / 1000, stacks });
    start = null;
    stacks = new Map();
    continue;
  }
  if (start === null) start = time;
  const key = stack(id);
  stacks.set(key, (stacks.get(key) ?? 0) + 1);
}
runs.sort((a, b) => b.ms - a.ms);
for (const run of runs.slice(0, 10)) {
  process.stdout.write(`busy ${run.ms.toFixed(0)} ms\n`);
  for (const [key, n] of [...run.stacks].sort((a, b) => b[1] - a[1]).slice(0, 4))
    process.stdout.write(`  ${String(n).padStart(4)} samples  ${key}\n`);
}
