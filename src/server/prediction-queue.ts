// The predictor's waiting line, grouped by inventory: entries of one inventory leave it together,
// in the order the group was first queued, so a worker that has just read an inventory predicts
// every bundle waiting for it before it moves on to the next one (its cache of parsed inventories
// stays warm, predict-worker.ts). Within a group, entries leave in the order they came.

export interface Queued {
  readonly key: string;
  readonly inventoryId: number;
}

export class PredictionQueue<E extends Queued> {
  private readonly groups = new Map<number, Map<string, E>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(inventoryId: number, key: string): E | undefined {
    return this.groups.get(inventoryId)?.get(key);
  }

  add(entry: E): void {
    let group = this.groups.get(entry.inventoryId);
    if (group === undefined) {
      group = new Map();
      this.groups.set(entry.inventoryId, group);
    }
    if (!group.has(entry.key)) this.count += 1;
    group.set(entry.key, entry);
  }

  delete(entry: E): boolean {
    const group = this.groups.get(entry.inventoryId);
    if (group === undefined || group.get(entry.key) !== entry) return false;
    group.delete(entry.key);
    if (group.size === 0) this.groups.delete(entry.inventoryId);
    this.count -= 1;
    return true;
  }

  /** The next entry, removed from the queue; undefined when empty. */
  take(): E | undefined {
    const group = this.groups.values().next().value;
    if (group === undefined) return undefined;
    const entry = group.values().next().value!;
    this.delete(entry);
    return entry;
  }

  values(): E[] {
    return [...this.groups.values()].flatMap((group) => [...group.values()]);
  }

  clear(): void {
    this.groups.clear();
    this.count = 0;
  }
}
