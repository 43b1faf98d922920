// The lab's qemu-aarch64 binfmt handler (README "Testing → arm64 roots"): registered with the F flag
// for exactly the aarch64 ELF header, and refused with a one-line reason where it cannot be.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { BINFMT_DIR, BINFMT_NAME, QEMU_AARCH64, ensureAarch64Binfmt, registrationLine } from './binfmt.js';
import { skipUnlessLab } from './prerequisites.js';

test('the registration line matches 20 header bytes of aarch64 ELF programs and asks for F', () => {
  const [, name, type, offset, magic, mask, interpreter, flags] = registrationLine().split(':');
  assert.equal(name, BINFMT_NAME);
  assert.equal(type, 'M');
  assert.equal(offset, '');
  // binfmt_misc's escapes: \xHH is one byte, any other character stands for itself ("ELF").
  const bytes = (text: string) =>
    [...text.matchAll(/\\x([0-9a-f]{2})|(.)/g)].map((m) => m[1] ?? m[2]!.charCodeAt(0).toString(16));
  assert.equal(bytes(magic!).length, 20);
  assert.equal(bytes(mask!).length, 20);
  assert.deepEqual(bytes(magic!).slice(18), ['b7', '00'], 'e_machine EM_AARCH64');
  assert.equal(interpreter, QEMU_AARCH64);
  assert.equal(flags, 'F');
});

test('the handler the lab relies on is enabled, with F, for qemu-aarch64', (t) => {
  if (skipUnlessLab(t, ['arm64'])) return;
  assert.equal(ensureAarch64Binfmt(), undefined);
  const entries = [BINFMT_NAME, 'qemu-aarch64'].map((name) => {
    try {
      return readFileSync(`${BINFMT_DIR}/${name}`, 'utf8');
    } catch {
      return '';
    }
  });
  const active = entries.find((text) => /^enabled$/m.test(text));
  assert.ok(active, 'no enabled aarch64 handler');
  assert.match(active, /^flags: .*F/m);
  assert.match(active, /^magic 7f454c460201010000000000000000000200b700$/m);
});

test('as an ordinary user (nobody) registration is refused with one line naming what it needs', async (t) => {
  if (skipUnlessLab(t, ['root'])) return;
  const module = fileURLToPath(new URL('./binfmt.js', import.meta.url));
  const script = `import(${JSON.stringify(module)}).then((m) => console.log(m.ensureAarch64Binfmt(() => {})))`;
  const r = await execa(
    'setpriv',
    ['--reuid', 'nobody', '--regid', 'nogroup', '--clear-groups', process.execPath, '-e', script],
    {
      reject: false,
    },
  );
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'arm64 roots need root to register the qemu-aarch64 binfmt handler');
});
