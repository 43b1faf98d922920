#!/usr/bin/env bash
# Quick start: set everything up on a fresh Debian/Ubuntu machine and run pyrelo's main job.
#
# Today the main job is the loader check: take this host's inventory, build a small sample program,
# and show where it runs and why (this host, a stored inventory of it, and a program that needs a
# newer glibc than the host has). The bundle build, the server and the deploy trip join it as they
# land (see README, "Status").
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system-deps.sh
# better-sqlite3 is compiled from source against Node's own headers (/usr/include/node): no
# prebuilt binary or header download can reach us.
export npm_config_nodedir=/usr npm_config_build_from_source=true
npm ci --no-audit --no-fund
npm run build --silent

work=$(mktemp -d /tmp/pyrelo-quickstart.XXXXXX)
trap 'rm -rf "$work"' EXIT
pyrelo() { node dist/src/client/main.js "$@"; }

echo "== 1. the facts a check needs about this host"
pyrelo inventory
pyrelo inventory -o "$work/this-host.json.gz"
echo "   stored as $work/this-host.json.gz ($(du -h "$work/this-host.json.gz" | cut -f1))"

echo "== 2. a sample program, linked against libz"
cat > "$work/sample.c" <<'C'
#include <stdio.h>
#include <zlib.h>
int main(void) { printf("zlib %s\n", zlibVersion()); return 0; }
C
gcc -o "$work/sample" "$work/sample.c" -lz
"$work/sample"

echo "== 3. check it on this host, and against the stored inventory"
pyrelo check "$work/sample"
pyrelo check --inventory "$work/this-host.json.gz" "$work/sample"

echo "== 4. a program built against a newer library than the host has: what ld.so would say"
mkdir -p "$work/new" "$work/old"
echo 'int answer(void) { return 42; }' > "$work/answer.c"
printf 'FUTURE_2 { global: answer; local: *; };\n' > "$work/new.map"
printf 'FUTURE_1 { global: answer; local: *; };\n' > "$work/old.map"
gcc -shared -fPIC -o "$work/new/libanswer.so.1" -Wl,-soname,libanswer.so.1 -Wl,--version-script="$work/new.map" "$work/answer.c"
gcc -shared -fPIC -o "$work/old/libanswer.so.1" -Wl,-soname,libanswer.so.1 -Wl,--version-script="$work/old.map" "$work/answer.c"
echo 'extern int answer(void); int main(void) { return answer() == 42 ? 0 : 1; }' > "$work/app.c"
gcc -o "$work/app" "$work/app.c" "$work/new/libanswer.so.1" -Wl,-rpath,'$ORIGIN/old'
set +e
pyrelo check "$work/app"
echo "   pyrelo check exit status: $? (1 = would not load)"
echo "   the real program says:"
"$work/app"
set -e
