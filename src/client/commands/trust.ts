// `pyrelo hosts trust NAME`: fetch the host key the host presents (nothing is sent but the key
// exchange), show its fingerprint, and add it to known_hosts only when confirmed: interactively,
// by --yes, or by --fingerprint matching out-of-band knowledge. A key that differs from the one on
// file is never replaced here: that is what an attack looks like; remove the old line by hand.

import { createInterface } from 'node:readline/promises';
import { writeErr, writeOut } from '../../common/terminal-text.js';
import { fetchHostKey, trustHostKey } from '../../remote/ssh/connect.js';
import { InputError } from '../../elf/find-elf-files.js';
import { withControl } from '../control-client.js';
import { sshTargetOf } from '../deploy/reach.js';
import type { ControlOptions } from './hosts.js';

export interface TrustOptions extends ControlOptions {
  readonly yes?: boolean;
  readonly fingerprint?: string;
}

async function confirmed(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export async function hostsTrust(name: string, o: TrustOptions): Promise<number> {
  const host = await withControl(o.control, (c) => c.call('ShowHost', { name }));
  const target = await sshTargetOf(host);
  const key = await fetchHostKey(target, { hostName: name });
  const where = key.knownAt ? `${key.knownAt.file}:${key.knownAt.line}` : '';
  const report = {
    host: name,
    target: target.spec,
    keyType: key.keyType,
    fingerprint: key.fingerprint,
    status: key.knownStatus,
    knownAt: where,
  };
  writeErr(`${name} (${target.spec}) presents ${key.keyType} key ${key.fingerprint}\n`);
  if (key.knownStatus === 'known') {
    writeErr(`already trusted (${where})\n`);
    if (o.json) writeOut(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  }
  if (key.knownStatus === 'changed' || key.knownStatus === 'revoked') {
    throw new InputError(
      `host ${name}`,
      `its key ${key.knownStatus === 'changed' ? 'differs from the one' : 'is marked revoked'} in ${where}; ` +
        'refusing to trust it. If the host was really reinstalled, remove that line (ssh-keygen -R) and run ' +
        'pyrelo hosts trust again',
    );
  }
  if (o.fingerprint !== undefined && o.fingerprint !== key.fingerprint) {
    throw new InputError(
      `--fingerprint ${o.fingerprint}`,
      `does not match the key ${name} presents (${key.fingerprint}); not trusted`,
    );
  }
  const ok =
    o.yes === true || o.fingerprint !== undefined || (await confirmed('Trust this key for deploys (yes/no)? '));
  if (!ok) {
    writeErr('not trusted (answer yes, or pass --yes or --fingerprint SHA256:… when not on a terminal)\n');
    return 1;
  }
  const file = await trustHostKey(target, key);
  writeErr(`trusted: added to ${file}\n`);
  if (o.json) writeOut(`${JSON.stringify({ ...report, status: 'trusted', knownAt: file }, null, 2)}\n`);
  return 0;
}
