// Every refusal of the command line ends with the documented exit status (1: something would not
// load or run; 2: bad input, an unreachable server, a refused request) and one readable line on
// stderr naming what was wrong, never a stack trace. Table-driven over the real CLI, both as the
// compiled modules and as the one-file `pyrelo` executable, whose rarer commands are the compiled
// modules loaded on use: their errors must still be recognised as bad input there.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { buildPyreloBin, COMPILED_MAIN, PYRELO_BIN } from '../support/pyrelo-bin.js';

interface Row {
  readonly what: string;
  readonly args: (dir: string) => string[];
  readonly exit: number;
  /** What the one line on stderr says. */
  readonly says: RegExp;
}

const noServer = (dir: string): string => `unix:${join(dir, 'no-server.sock')}`;

const rows: Row[] = [
  { what: 'an unknown command', args: () => ['bogus'], exit: 2, says: /unknown command 'bogus'/ },
  {
    what: 'an unknown option',
    args: () => ['check', '--bogus', '/usr/bin/ls'],
    exit: 2,
    says: /unknown option '--bogus'/,
  },
  { what: 'check of a file that is no ELF', args: (d) => ['check', join(d, 'text.txt')], exit: 2, says: /text\.txt/ },
  { what: 'check of a path that does not exist', args: (d) => ['check', join(d, 'absent')], exit: 2, says: /absent/ },
  {
    what: 'check with an emulated variable it does not know',
    args: () => ['check', '--env', 'LD_PRELOAD=x', '/usr/bin/ls'],
    exit: 2,
    says: /--env LD_PRELOAD=x: LD_PRELOAD is not emulated/,
  },
  {
    what: 'hosts list with no server at the address',
    args: (d) => ['hosts', 'list', '--control', noServer(d)],
    exit: 2,
    says: /server at unix:.*no-server\.sock is not reachable .*: connect ENOENT/,
  },
  {
    what: 'hosts list with a refused TCP address',
    args: () => ['hosts', 'list', '--control', '127.0.0.1:1'],
    exit: 2,
    says: /server at 127\.0\.0\.1:1 is not reachable .*: connect ECONNREFUSED 127\.0\.0\.1:1$/,
  },
  {
    what: 'compat with no server',
    args: (d) => ['compat', 'app', '--control', noServer(d)],
    exit: 2,
    says: /is not reachable/,
  },
  {
    what: 'deploy of something that is not a packed bundle',
    args: (d) => ['deploy', join(d, 'text.txt'), '--host', 'x', '--control', noServer(d)],
    exit: 2,
    says: /text\.txt: truncated: no end-of-archive marker/,
  },
  {
    what: 'unpack of something that is not an archive',
    args: (d) => ['unpack', join(d, 'text.txt'), join(d, 'out')],
    exit: 2,
    says: /text\.txt/,
  },
];

for (const [name, cli] of [
  ['the compiled modules', COMPILED_MAIN],
  ['the pyrelo executable', PYRELO_BIN],
] as const) {
  test(`refusals (${name}): the documented exit status and one line naming the input, no stack trace`, async () => {
    if (cli === PYRELO_BIN) await buildPyreloBin();
    const dir = mkdtempSync(join(tmpdir(), 'pyrelo-exit-'));
    try {
      writeFileSync(join(dir, 'text.txt'), 'not an ELF file, not an archive\n');
      for (const row of rows) {
        const r = await execa(process.execPath, [cli, ...row.args(dir)], { reject: false, timeout: 60_000 });
        const lines = r.stderr
          .trim()
          .split('\n')
          .filter((l) => l !== '');
        assert.equal(r.exitCode, row.exit, `${row.what}: exit ${r.exitCode}\n${r.stderr}`);
        assert.equal(lines.length, 1, `${row.what}: one line on stderr, got:\n${r.stderr}`);
        assert.match(lines[0]!, row.says, row.what);
        assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/, `${row.what}: a stack trace`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
