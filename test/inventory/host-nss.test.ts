// The NSS and locale facts of an inventory (src/inventory/host-nss.ts): nsswitch.conf as glibc reads
// it, locale-archive names, and hostile stored values refused with the field named.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { localeArchiveNames, parseNsswitch } from '../../src/inventory/host-nss.js';
import { validateInventory, InventoryFormatError } from '../../src/inventory/read.js';
import { collectInventory } from '../../src/inventory/collect.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';

test('nsswitch.conf: databases, modules in order, action brackets and comments left out', () => {
  const conf = [
    '# comment',
    'passwd:  files sss systemd   # trailing',
    'group: files [SUCCESS=merge] sss',
    'hosts:          files mdns4_minimal [NOTFOUND=return] dns myhostname',
    'not a line',
    'shadow:',
  ].join('\n');
  assert.deepEqual(parseNsswitch(conf), {
    passwd: ['files', 'sss', 'systemd'],
    group: ['files', 'sss'],
    hosts: ['files', 'mdns4_minimal', 'dns', 'myhostname'],
    shadow: [],
  });
});

test('locale-archive: the names in it; a file that is not one gives none', async () => {
  const dir = await makeTempDir('pyrelo-nss-');
  try {
    const archive = '/usr/lib/locale/locale-archive';
    if (existsSync(archive)) {
      const names = localeArchiveNames(archive);
      const real = execFileSync('locale', ['-a'], { encoding: 'utf8' }).split('\n');
      for (const name of names) assert.ok(real.includes(name), `${name} is not in locale -a`);
    }
    const bogus = join(dir, 'locale-archive');
    writeFileSync(bogus, Buffer.from([0x09, 0x01, 0x02, 0xde, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0x7f]));
    assert.deepEqual(localeArchiveNames(bogus), [], 'truncated header');
    const huge = Buffer.alloc(64);
    huge.writeUInt32LE(0xde020109, 0);
    huge.writeUInt32LE(0xfffffff0, 8); // the table far past the end of the file
    huge.writeUInt32LE(0xffffffff, 16);
    writeFileSync(bogus, huge);
    assert.deepEqual(localeArchiveNames(bogus), [], 'table offset past the end');
    assert.deepEqual(localeArchiveNames(join(dir, 'absent')), []);
  } finally {
    await removeDir(dir);
  }
});

test('an inventory of this machine has its nsswitch.conf; hostile nss values are refused naming the field', () => {
  const inventory = collectInventory('/');
  assert.ok(inventory.nss !== undefined);
  if (existsSync('/etc/nsswitch.conf')) assert.ok(Array.isArray(inventory.nss.databases.passwd));
  const files = inventory.nss.modules.find((m) => m.module === 'files');
  if (files !== undefined) assert.equal(files.soname, 'libnss_files.so.2');
  const roundTrip = validateInventory(JSON.parse(JSON.stringify(inventory)), 'x.json');
  assert.deepEqual(roundTrip.nss, inventory.nss);
  const bad = (nss: unknown, field: RegExp) =>
    assert.throws(
      () => validateInventory({ ...JSON.parse(JSON.stringify(inventory)), nss }, 'bad.json'),
      (e: unknown) => e instanceof InventoryFormatError && field.test(e.message),
    );
  bad('x', /nss/);
  bad({ ...inventory.nss, databases: { passwd: [1] } }, /nss\.databases/);
  bad({ ...inventory.nss, modules: [{ module: 'sss', soname: 'libnss_sss.so.2', path: 7 }] }, /nss\.modules\[0\]/);
  bad({ ...inventory.nss, locales: 'C' }, /nss\.locales/);
  bad({ ...inventory.nss, defaultLang: 5 }, /nss\.defaultLang/);
});
