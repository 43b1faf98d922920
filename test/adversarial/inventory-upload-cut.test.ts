// Issue 13 item 5: a host must not be left without an inventory after a badly timed cut. Two
// agents of one image connect to a real server process over real gRPC with the same, unknown,
// inventory hash: the first is asked for the inventory, the second waits for it. The first then
// disconnects without sending it. The unfixed server kept the hash "being uploaded" for good: the
// waiting host was never asked, and neither was the first one when it came back. Now the waiting
// host is asked with a new welcome, its inventory is stored and both hosts get it, and a host that
// reconnects after everyone dropped is asked again.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { collectInventory } from '../../src/inventory/collect.js';
import { inventoryContentSha256 } from '../../src/inventory/content-hash.js';
import type { ServerMessage } from '../../src/proto/messages.js';
import { hello, openStream, startFleet, type Fleet, type OpenStream } from './fleet.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let work: string;
let fleet: Fleet;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pyrelo-adversarial-upload-cut-'));
  fleet = await startFleet(work);
});

after(async () => {
  await fleet?.stop();
  rmSync(work, { recursive: true, force: true });
});

/**
 * This machine's inventory without its objects: small, valid, and unknown to the server (announced
 * by content, as agents do).
 */
function smallInventory(tag: string): { gz: Buffer; sha256: string } {
  const inventory = { ...collectInventory('/'), objects: [], files: {}, source: tag };
  const json = Buffer.from(JSON.stringify(inventory));
  return { gz: gzipSync(json), sha256: inventoryContentSha256(inventory) };
}

async function welcomes(stream: OpenStream, count: number, timeoutMs = 10_000): Promise<ServerMessage[]> {
  const deadline = Date.now() + timeoutMs;
  const of = (): ServerMessage[] => stream.received.filter((m) => m.body === 'welcome');
  while (of().length < count && Date.now() < deadline) await sleep(20);
  return of();
}

async function inventoryOf(name: string): Promise<string> {
  const hosts = (await fleet.control.call('ListHosts', {})).hosts;
  return hosts.find((h) => h.name === name)?.inventorySha256 ?? '';
}

test(
  'the uploader cut before sending: the waiting host is asked instead and both hosts get the inventory',
  { timeout: 60_000 },
  async () => {
    const { gz, sha256 } = smallInventory('cut-1');
    const a = await fleet.agent('image-a');
    const b = await fleet.agent('image-b');
    const first = openStream(a, hello('image-a', Buffer.alloc(0), sha256));
    const firstWelcome = await welcomes(first, 1);
    assert.equal(
      firstWelcome[0]?.body === 'welcome' && firstWelcome[0].welcome?.needInventory,
      true,
      'the first is asked',
    );
    const second = openStream(b, hello('image-b', Buffer.alloc(0), sha256));
    const secondWelcome = await welcomes(second, 1);
    assert.equal(
      secondWelcome[0]?.body === 'welcome' && secondWelcome[0].welcome?.needInventory,
      false,
      'the second waits',
    );

    // The cut: the first agent goes away without its inventory.
    first.stream.cancel();
    await first.ended;
    const asked = await welcomes(second, 2);
    assert.equal(asked.length, 2, 'the waiting host gets a second welcome');
    assert.equal(asked[1]?.body === 'welcome' && asked[1].welcome?.needInventory, true, 'asking for the inventory');
    second.stream.write(hello('image-b', gz, sha256));
    const deadline = Date.now() + 10_000;
    while ((await inventoryOf('image-b')) !== sha256 && Date.now() < deadline) await sleep(50);
    assert.equal(await inventoryOf('image-b'), sha256);
    // The first comes back: the stored inventory is its own, nothing to upload.
    const back = openStream(a, hello('image-a', Buffer.alloc(0), sha256));
    const backWelcome = (await welcomes(back, 1))[0];
    assert.equal(backWelcome?.body === 'welcome' && backWelcome.welcome?.needInventory, false);
    assert.equal(await inventoryOf('image-a'), sha256);
    back.stream.end();
    second.stream.end();
    a.close();
    b.close();
  },
);

test('after everyone with the hash dropped, the next hello of it is asked', { timeout: 60_000 }, async () => {
  const { sha256 } = smallInventory('cut-2');
  const c = await fleet.agent('image-c');
  const first = openStream(c, hello('image-c', Buffer.alloc(0), sha256));
  const asked = (await welcomes(first, 1))[0];
  assert.equal(asked?.body === 'welcome' && asked.welcome?.needInventory, true);
  first.stream.cancel();
  await first.ended;
  await sleep(200);
  const again = openStream(c, hello('image-c', Buffer.alloc(0), sha256));
  const welcome = (await welcomes(again, 1))[0];
  assert.equal(welcome?.body === 'welcome' && welcome.welcome?.needInventory, true, 'asked again for the inventory');
  again.stream.end();
  c.close();
});
