// The identity of an inventory: the sha256 of its JSON without `collectedAt`. Two collections of an
// unchanged host differ only in that timestamp; hashing it made every agent restart store another
// copy (4.5 MB for a Debian host, issue 13 item 4). The agent announces this hash in its hello and
// the server stores inventories under it, so an unchanged host is never asked for its inventory
// again and equal hosts share one stored body (README "Limits on what agents send").

import { createHash } from 'node:crypto';

/**
 * sha256 of JSON.stringify(inventory) with `collectedAt` left out and every other key in its order.
 * `inventory` is the collected object or JSON.parse of its text (the same text either way, since
 * JSON.stringify of JSON.parse of JSON.stringify's output gives that output back).
 */
export function inventoryContentSha256(inventory: unknown): string {
  const { collectedAt: _collectedAt, ...content } = inventory as Record<string, unknown>;
  return createHash('sha256').update(JSON.stringify(content)).digest('hex');
}
