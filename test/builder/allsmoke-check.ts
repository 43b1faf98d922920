// What the combined app's smoke commands print (allsmoke, smoke, scismoke; see wheelhouse.ts) and
// the checks every bundle of it must pass: each part computed right, in the bundle's own prefix,
// the spawn pool's workers the bundled interpreter, no path into the bundle in any child.

import assert from 'node:assert/strict';
import type { SmokeResult } from './shared-build.js';

export interface SciSmoke {
  prefix: string;
  numpy: string;
  matmul: number[][];
  solve: number[];
  lxml: string;
  libxml2: string;
  xpath: number;
  xslt: string;
}
export interface PoolWork {
  n: number;
  sum_of_squares: number;
  pid: number;
  executable: string;
  prefix: string;
  ld_vars: string[];
}
export interface AllSmoke {
  prefix: string;
  executable: string;
  cwd: string;
  pid: number;
  start_method: string;
  yamlsmoke: SmokeResult;
  scismoke: SciSmoke;
  pool: PoolWork[];
}

/** Child environment lines that point into the bundle, or set the loader's variables. */
function leaks(at: string, envText: string): string[] {
  return envText.split('\n').filter((line) => line.includes(at) || line.startsWith('LD_'));
}

export function checkYamlSmoke(out: SmokeResult, at: string, cwd: string, what: string, version = '3.11.7'): void {
  assert.equal(out.prefix, at, what);
  assert.equal(out.cwd, cwd, what);
  assert.ok(out.version.startsWith(`${version} `), `${what}: Python ${out.version}, not ${version}`);
  assert.equal(out.yaml, '0.2.5', what);
  assert.equal(out.yaml_events, 11, what);
  assert.equal(out.fernet, 'pyrelo', what);
  assert.equal(out.child_exit, 0, `${what}: sh -c 'env; ls /' failed`);
  assert.match(out.child_stdout, /^PATH=/m, `${what}: env ran`);
  assert.match(out.child_stdout, /^tmp$/m, `${what}: ls / ran`);
  assert.deepEqual(leaks(at, out.child_stdout), [], `${what}: the child's environment points nowhere into the bundle`);
}

export function checkSciSmoke(out: SciSmoke, at: string, what: string): void {
  assert.equal(out.prefix, at, what);
  assert.equal(out.numpy, '2.4.6', what);
  assert.deepEqual(
    out.matmul,
    [
      [10, 13],
      [28, 40],
    ],
    what,
  );
  assert.deepEqual(out.solve, [2, 3], what);
  assert.equal(out.lxml, '6.1.3', what);
  assert.equal(out.xpath, 3, what);
  assert.equal(out.xslt, '<?xml version="1.0"?>\n<out>ab</out>', what);
}

export function checkAllSmoke(
  out: AllSmoke,
  at: string,
  cwd: string,
  executable: string,
  what: string,
  version = '3.11.7',
): void {
  assert.equal(out.prefix, at, what);
  assert.equal(out.cwd, cwd, what);
  assert.equal(out.executable, executable, what);
  assert.equal(out.start_method, 'spawn', what);
  checkYamlSmoke(out.yamlsmoke, at, cwd, `${what} (yamlsmoke in-process)`, version);
  checkSciSmoke(out.scismoke, at, `${what} (scismoke in-process)`);
  assert.deepEqual(
    out.pool.map((w) => [w.n, w.sum_of_squares]),
    [0, 1, 2, 3, 4, 5, 6, 7].map((n) => [n, (n * (n + 1) * (2 * n + 1)) / 6]),
    `${what}: pool results`,
  );
  const pids = new Set(out.pool.map((w) => w.pid));
  assert.ok(
    !pids.has(out.pid) && pids.size >= 1 && pids.size <= 2,
    `${what}: the work ran in the pool's workers, not the parent: ${[...pids].join(' ')} vs ${out.pid}`,
  );
  for (const w of out.pool) {
    assert.equal(w.executable, executable, `${what}: a worker is the bundled interpreter`);
    assert.equal(w.prefix, at, what);
    assert.deepEqual(w.ld_vars, [], `${what}: no LD_ variable in a worker`);
  }
}
