// Writes tar archives by hand, for archives no well-behaved tar would produce (absolute names,
// `..`, devices, links out). ustar headers with correct checksums, so only the content is hostile.

export interface HandEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'hardlink' | 'character-device' | 'fifo';
  data?: string | Uint8Array;
  linkName?: string;
  mode?: number;
}

const FLAGS = { file: '0', hardlink: '1', symlink: '2', 'character-device': '3', directory: '5', fifo: '6' } as const;

function put(block: Uint8Array, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value);
  if (bytes.length > length) throw new Error(`tar field too long: ${value}`);
  block.set(bytes, offset);
}

function octalField(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, '0')}\0`;
}

export function handTar(entries: readonly HandEntry[]): Buffer {
  const blocks: Uint8Array[] = [];
  for (const entry of entries) {
    const type = entry.type ?? 'file';
    const data = typeof entry.data === 'string' ? Buffer.from(entry.data) : Buffer.from(entry.data ?? new Uint8Array());
    const header = new Uint8Array(512);
    put(header, 0, 100, entry.name);
    put(header, 100, 8, octalField(entry.mode ?? (type === 'directory' ? 0o755 : 0o644), 8));
    put(header, 108, 8, octalField(0, 8));
    put(header, 116, 8, octalField(0, 8));
    put(header, 124, 12, octalField(data.length, 12));
    put(header, 136, 12, octalField(0, 12));
    put(header, 156, 1, FLAGS[type]);
    put(header, 157, 100, entry.linkName ?? '');
    put(header, 257, 6, 'ustar\0');
    put(header, 263, 2, '00');
    header.fill(0x20, 148, 156);
    const sum = header.reduce((a, b) => a + b, 0);
    put(header, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
    blocks.push(header, data, new Uint8Array((512 - (data.length % 512)) % 512));
  }
  blocks.push(new Uint8Array(1024));
  return Buffer.concat(blocks);
}
