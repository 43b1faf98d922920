// Issue 13 item 14, the check's side: what `pyrelo check` prints comes from the checked files (a
// wheel's DT_NEEDED, SONAME, RUNPATH and symbol names are whatever its author wrote) and from the
// host. A library name holding an escape sequence (here ESC ] … BEL, which retitles a terminal, and
// U+009B, a CSI on some terminals, which JSON.stringify leaves raw) must reach the terminal escaped,
// in text and in JSON, and the JSON must still parse back to the real name.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { compileExecutable, compileSharedLibrary, makeTempDir, removeDir } from '../support/fixtures.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'client', 'main.js');
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const SONAME = 'libtitle\u001b]0;pwned\u0007csi\u009b2J.so.1';

test('pyrelo check prints a hostile DT_NEEDED name escaped, in text and JSON', async (t) => {
  const hasGcc = await execa('gcc', ['--version'], { reject: false }).then(
    (r) => r.exitCode === 0,
    () => false,
  );
  if (!hasGcc) return t.skip('needs gcc to build the fixtures');
  const dir = await makeTempDir('pyrelo-check-escapes-');
  try {
    const library = await compileSharedLibrary({
      dir,
      file: 'lib/libtitle.so',
      soname: SONAME,
      source: 'int title(void) { return 1; }\n',
    });
    const program = await compileExecutable({
      dir,
      file: 'bin/user',
      source: 'extern int title(void);\nint main(void) { return title() - 1; }\n',
      needed: [library],
    });
    rmSync(library); // the DT_NEEDED entry stays; the library is nowhere: ld.so names it in its error

    const text = await execa('node', [MAIN, 'check', program], { reject: false, env: { LC_ALL: 'C' } });
    assert.equal(text.exitCode, 1, text.stderr);
    assert.doesNotMatch(text.stdout, RAW_CONTROL, 'no raw control character in the text output');
    assert.ok(text.stdout.includes('libtitle\\u001b]0;pwned\\u0007csi\\u009b2J.so.1'), text.stdout);

    const json = await execa('node', [MAIN, 'check', '--json', program], { reject: false, env: { LC_ALL: 'C' } });
    assert.equal(json.exitCode, 1, json.stderr);
    assert.doesNotMatch(json.stdout, RAW_CONTROL, 'no raw control character in the JSON output');
    const parsed = JSON.parse(json.stdout) as { files: Array<{ problems: Array<{ message: string }> }> };
    const messages = parsed.files.flatMap((f) => f.problems.map((p) => p.message));
    assert.ok(
      messages.some((m) => m.startsWith(`${SONAME}: cannot open shared object file`)),
      `the JSON parses back to the real name: ${JSON.stringify(messages)}`,
    );
  } finally {
    removeDir(dir);
  }
});
