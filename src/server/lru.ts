// A map that keeps its last `capacity` entries used: the prediction workers' caches of decoded
// objects, inventory views and bundle sides (predict-worker.ts).

export class Lru<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly capacity: number) {}

  /** The entry for `key`, made by `make` when absent (a throw stores nothing). */
  get(key: K, make: () => V): V {
    if (this.entries.has(key)) {
      const value = this.entries.get(key) as V;
      // Map order is insertion order: moved to the end, it is the last to go.
      this.entries.delete(key);
      this.entries.set(key, value);
      return value;
    }
    const value = make();
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value as K);
    this.entries.set(key, value);
    return value;
  }
}
