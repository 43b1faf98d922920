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
 * The same pass fed in pieces (JSON inflated a chunk at a time): each piece's bytes are scanned and
 * dropped, so a refusal never needs the whole JSON in memory.
 */
export class JsonShapeScan {
  private depth = 0;
  private elements = 0;
  private inString = false;
  /** The piece before ended on a backslash inside a string: the next byte is escaped. */
  private escaped = false;
  private offset = 0;

  constructor(private readonly limits: JsonShapeLimits) {}

  /** Scans the next bytes; returns why the JSON so far is over the limits, or null. */
  feed(piece: Uint8Array): string | null {
    const { maxDepth, maxElements } = this.limits;
    // Locals in the loop, written back once: this runs over every byte of an inventory.
    let { depth, elements, inString } = this;
    let i = 0;
    if (this.escaped && piece.length > 0) {
      this.escaped = false;
      i = 1;
    }
    try {
      for (; i < piece.length; i++) {
        const byte = piece[i]!;
        if (inString) {
          if (byte === BACKSLASH) {
            if (i + 1 === piece.length) this.escaped = true;
            i++;
          } else if (byte === QUOTE) inString = false;
          continue;
        }
        if (byte === QUOTE) {
          inString = true;
        } else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
          if (++depth > maxDepth) return `nested deeper than ${maxDepth} levels (at byte ${this.offset + i})`;
          if (++elements > maxElements) return `more than ${maxElements} values (at byte ${this.offset + i})`;
        } else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) {
          depth--;
        } else if (byte === COMMA) {
          if (++elements > maxElements) return `more than ${maxElements} values (at byte ${this.offset + i})`;
        }
      }
      return null;
    } finally {
      this.depth = depth;
      this.elements = elements;
      this.inString = inString;
      this.offset += piece.length;
    }
  }
}

/**
 * Why `json` is over the limits, or null. Values are counted as every opening bracket plus every
 * comma (one per further item or member): a fair count of what parsing would allocate.
 */
export function jsonShapeProblem(json: Uint8Array, limits: JsonShapeLimits): string | null {
  return new JsonShapeScan(limits).feed(json);
}
