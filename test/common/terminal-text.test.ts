// writeJsonOut (src/common/terminal-text.ts) skips the control-character escape for JSON texts
// that cannot need it; what it writes must be byte for byte what writeOut writes, for any text.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeJsonOut, writeOut } from '../../src/common/terminal-text.js';

function written(write: (text: string) => void, text: string): Buffer {
  const chunks: Buffer[] = [];
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    chunks.push(Buffer.from(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    write(text);
  } finally {
    process.stdout.write = original;
  }
  return Buffer.concat(chunks);
}

test('writeJsonOut writes what writeOut writes: DEL and C1 escaped, the rest as it is', () => {
  const names = [
    'libplain.so.1',
    'lib\u007fdel.so',
    'lib\u0085next-line.so',
    'lib\u009bcsi.so',
    'lib\u001b]0;title\u0007.so',
    'libnbsp\u00a0é€😀.so',
    '\ud800 lone surrogate',
  ];
  for (const name of names) {
    const json = `${JSON.stringify({ files: [{ soname: name }] }, null, 2)}\n`;
    const bytes = written(writeJsonOut, json);
    assert.deepEqual(bytes, written(writeOut, json), JSON.stringify(name));
    assert.deepEqual(JSON.parse(bytes.toString('utf8')), { files: [{ soname: name }] }, JSON.stringify(name));
  }
});
