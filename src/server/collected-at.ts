// When an inventory was collected, as an agent or an inventory file says it (its collectedAt, or a
// hello's inventory_collected_at): untrusted text, kept only when it is a time, in one form, so
// that `pyrelo fleet` can count its age (README "pyrelo fleet").

/** Longer than any ISO 8601 time with a zone; anything longer is not one. */
const MAX_LENGTH = 40;

/** Clocks differ; a collection time further ahead of the server's than this is not one. */
const FUTURE_SLACK_MS = 24 * 60 * 60 * 1000;

/** The time as ISO 8601 UTC, or '' when `value` is not a time (or lies ahead). */
export function collectionTime(value: unknown, now = Date.now()): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_LENGTH) return '';
  // Date.parse takes many forms; only those starting like ISO 8601 dates are meant.
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return '';
  const ms = Date.parse(value);
  // A time ahead would keep the host from ever being counted stale.
  return Number.isFinite(ms) && ms <= now + FUTURE_SLACK_MS ? new Date(ms).toISOString() : '';
}
