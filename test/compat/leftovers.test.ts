// Build-host paths outside ELF files: pyrelo check and the service's check report each one (a
// stale shebang, a .pth, a literal sysconfig prefix, a file:// direct_url) and call the bundle
// broken; the relocatable forms pyrelo build writes, and `#!/usr/bin/env`, are not reported.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeManifest } from '../../src/bundle/manifest.js';
import { relocatableHeader } from '../../src/builder/launchers.js';
import { checkBundleHere } from '../../src/compat/check-bundle.js';
import { buildHostLeftovers } from '../../src/compat/leftovers.js';
import { main } from '../../src/client/cli.js';
import { makeTempDir, removeDir } from '../support/fixtures.js';
import { sampleManifest } from '../bundle/sample-manifest.js';
import { captureStdout } from '../support/capture-stdout.js';

function write(path: string, text: string, mode = 0o644): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, mode);
}

test(
  'build-host paths left in scripts, .pth, sysconfig and direct_url.json are reported; the bundle is broken ' +
    'until they go',
  async () => {
    const bundle = await makeTempDir('pyrelo-leftovers-');
    try {
      writeManifest(bundle, sampleManifest());
      mkdirSync(join(bundle, 'bin'));
      copyFileSync('/bin/true', join(bundle, 'bin', 'true')); // an ELF that loads here, so only leftovers can fail
      chmodSync(join(bundle, 'bin', 'true'), 0o755);
      const site = join(bundle, 'lib', 'python3.11', 'site-packages');
      // Leftovers:
      write(join(bundle, 'bin', 'pip'), '#!/root/.pyenv/versions/3.11.7/bin/python3.11\nimport pip\n', 0o755);
      write(
        join(bundle, 'bin', 'tool'),
        `#!/bin/sh\n'''exec' "/opt/build here/bin/python3" "$0" "$@"\n' '''\nimport tool\n`,
        0o755,
      );
      write(join(site, 'local.pth'), 'import os\n/home/builder/src/app\n');
      write(
        join(site, 'app-1.0.dist-info', 'direct_url.json'),
        '{"url": "file:///home/builder/src/app", "dir_info": {}}',
      );
      write(
        join(bundle, 'lib', 'python3.11', '_sysconfigdata__linux_x86_64-linux-gnu.py'),
        "build_time_vars = {\n 'prefix': '/root/.pyenv/versions/3.11.7',\n}\n",
      );
      // Not leftovers: pyrelo build's relocatable header, env, a shell script, a relative .pth line.
      write(join(bundle, 'bin', 'smoke'), `${relocatableHeader('python3.11')}import smoke\n`, 0o755);
      write(join(bundle, 'bin', 'envpy'), '#!/usr/bin/env python3\nprint(1)\n', 0o755);
      write(join(bundle, 'bin', 'hello'), '#!/bin/sh\necho hello\n', 0o755);
      write(join(site, 'relative.pth'), 'vendored\n');
      write(
        join(bundle, 'lib', 'python3.11', '_sysconfigdata__x86_64-linux-gnu.py'),
        "build_time_vars = {\n 'prefix': '/usr',\n}\n",
      ); // Debian's system Python

      const found = buildHostLeftovers(bundle);
      assert.deepEqual(found.map((l) => l.file).sort(), [
        'bin/pip',
        'bin/tool',
        'lib/python3.11/_sysconfigdata__linux_x86_64-linux-gnu.py',
        'lib/python3.11/site-packages/app-1.0.dist-info/direct_url.json',
        'lib/python3.11/site-packages/local.pth',
      ]);
      assert.match(
        found.find((l) => l.file === 'bin/tool')!.message,
        /runs \/opt\/build here\/bin\/python3, a Python outside the bundle/,
      );

      const cli = await captureStdout(() => main(['check', bundle]));
      assert.equal(cli.code, 1, cli.stdout);
      assert.match(cli.stdout, /5 build-host paths left in the bundle:/);
      assert.match(cli.stdout, /bin\/pip: its shebang runs \/root\/\.pyenv\/versions\/3\.11\.7\/bin\/python3\.11/);
      assert.match(
        cli.stdout,
        /_sysconfigdata__linux_x86_64-linux-gnu\.py: sysconfig's prefix is \/root\/\.pyenv\/versions\/3\.11\.7/,
      );

      const service = checkBundleHere(bundle, { digest: 'd', host: 'here' });
      assert.equal(service.loads, false);
      assert.deepEqual(
        service.problems
          .filter((p) => p.kind === 'build-host-path')
          .map((p) => p.file)
          .sort(),
        found.map((l) => l.file).sort(),
      );

      for (const l of found) rmSync(join(bundle, l.file));
      assert.equal((await captureStdout(() => main(['check', bundle]))).code, 0);
      assert.equal(checkBundleHere(bundle, { digest: 'd', host: 'here' }).loads, true);
    } finally {
      await removeDir(bundle);
    }
  },
);
