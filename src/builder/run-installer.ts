// The self-extracting installer (OUTPUT ending in .run): a POSIX sh script followed by the bundle
// as a reproducible .tar.gz. It needs only /bin/sh, tail, tar (with -z), sha256sum and mktemp,
// which busybox provides. It checks the payload's checksum, then every file's checksum from the
// manifest, in a temporary folder next to the destination that is renamed into place; it refuses
// to replace an existing folder without --force.

import { readFileSync, rmSync, writeFileSync, chmodSync, renameSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { temporarySibling } from '../bundle/atomic-write.js';
import type { Manifest } from '../bundle/manifest.js';
import { packBundle } from '../bundle/pack.js';

// Padded with trailing blanks, not leading zeros: sh arithmetic reads 0123 as octal.
const SKIP_WIDTH = 10;

function script(manifest: Manifest, payloadSha256: string, skip: number): string {
  const sums = manifest.files
    .filter((f) => f.type === 'file')
    .map((f) => `${f.sha256}  ./${f.path}`)
    .join('\n');
  const size = manifest.files.reduce((a, f) => a + (f.size ?? 0), 0);
  /* eslint-disable max-len -- an embedded program, kept line for line as it runs */
  return `#!/bin/sh
# Self-extracting pyrelo bundle "${manifest.name}": Python ${manifest.python.version}, ${manifest.files.length} files, ${size} bytes installed.
# Usage: sh THIS.run --prefix DIR [--force]
set -eu
SKIP=${String(skip).padEnd(SKIP_WIDTH, ' ')}
PAYLOAD_SHA256=${payloadSha256}
usage() { echo "usage: $0 --prefix DIR [--force]" >&2; }
prefix=""; force=0
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || { usage; exit 2; }; prefix="$2"; shift 2 ;;
    --prefix=*) prefix="\${1#--prefix=}"; shift ;;
    --force) force=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "$0: unknown option: $1" >&2; usage; exit 2 ;;
  esac
done
[ -n "$prefix" ] || { usage; exit 2; }
prefix="\${prefix%/}"
if [ -e "$prefix" ] && [ "$force" != 1 ]; then echo "$0: $prefix already exists (use --force to replace it)" >&2; exit 1; fi
parent=$(dirname -- "$prefix")
mkdir -p -- "$parent"
tmp=$(mktemp -d "$parent/.pyrelo-install.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
trap 'exit 130' INT TERM
tail -c +$((SKIP + 1)) -- "$0" > "$tmp/payload.tar.gz"
if ! echo "$PAYLOAD_SHA256  $tmp/payload.tar.gz" | sha256sum -c >/dev/null 2>&1; then echo "$0: damaged: the payload checksum does not match" >&2; exit 1; fi
mkdir "$tmp/bundle"
tar -xzf "$tmp/payload.tar.gz" -C "$tmp/bundle"
rm -f -- "$tmp/payload.tar.gz"
sums() {
cat <<'PYRELO_SUMS'
${sums}
PYRELO_SUMS
}
if ! (cd "$tmp/bundle" && sums | sha256sum -c >"$tmp/check.txt" 2>&1); then
  echo "$0: damaged: files do not match their checksums:" >&2; grep -v ': OK$' "$tmp/check.txt" >&2 || true; exit 1
fi
if [ -e "$prefix" ]; then
  old="$tmp/old"; mv -- "$prefix" "$old"
fi
mv -- "$tmp/bundle" "$prefix"
echo "installed ${manifest.name} (Python ${manifest.python.version}, ${manifest.files.length} files, ${size} bytes, every checksum checked) into $prefix"
echo "run: $prefix/bin/python3"
exit 0
`;
  /* eslint-enable max-len */
}

export async function writeRunInstaller(bundle: string, output: string, manifest: Manifest): Promise<void> {
  const payload = temporarySibling(`${output}.payload`) + '.tar.gz';
  try {
    await packBundle(bundle, payload);
    const bytes = readFileSync(payload);
    const sha = createHash('sha256').update(bytes).digest('hex');
    const first = script(manifest, sha, 0);
    const header = script(manifest, sha, Buffer.byteLength(first)); // same length: SKIP is fixed-width
    const temporary = temporarySibling(output);
    writeFileSync(temporary, Buffer.concat([Buffer.from(header), bytes]));
    chmodSync(temporary, 0o755);
    renameSync(temporary, output);
  } finally {
    rmSync(payload, { force: true });
  }
}
