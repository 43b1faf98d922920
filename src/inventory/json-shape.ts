// A pass over JSON bytes that measures nesting and counts values without building anything, so
// input from an agent can be refused before JSON.parse spends memory on it (README "Limits on
// what agents send"). It tracks strings and escapes only; syntax is JSON.parse's job afterwards.

export interface JsonShapeLimits {
  readonly maxDepth: number;
  readonly maxElements: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;
const COMMA = 0x2c;

/**
 * Why `json` is over the limits, or null. Values are counted as every opening bracket plus every
 * comma (one per further item or member): a fair count of what parsing would allocate.
 */
export function jsonShapeProblem(json: Uint8Array, limits: JsonShapeLimits): string | null {
  let depth = 0;
  let elements = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const byte = json[i]!;
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
      continue;
    }
    if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
      if (++depth > limits.maxDepth) return `nested deeper than ${limits.maxDepth} levels (at byte ${i})`;
      if (++elements > limits.maxElements) return `more than ${limits.maxElements} values (at byte ${i})`;
    } else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) {
      depth--;
    } else if (byte === COMMA) {
      if (++elements > limits.maxElements) return `more than ${limits.maxElements} values (at byte ${i})`;
    }
  }
  return null;
}
