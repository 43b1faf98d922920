#!/usr/bin/env bash
# Quick start: set everything up on a fresh Debian/Ubuntu machine and run pyrelo's main job:
# build a relocatable bundle of a sample app, start the compatibility server on its embedded SQLite
# database and an agent for this host, deploy the bundle to this host (agent, prediction, transfer,
# atomic install, smoke run, recorded), and print where the bundle runs. Then the loader check on its own: a program that will not load, in ld.so's words.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system-deps.sh
# better-sqlite3 is compiled from source (.prebuild-installrc) against Node's own headers
# (/usr/include/node): no prebuilt binary or header download can reach us. package.json's
# allowScripts names the dependencies whose install scripts run.
export npm_config_nodedir=/usr
npm ci --no-audit --no-fund
npm run build --silent

work=$(mktemp -d /tmp/pyrelo-quickstart.XXXXXX)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
pyrelo() { node dist/src/client/main.js "$@"; }

echo "== 1. a base CPython: Debian's pristine 3.11 source from the mirror, compiled once and cached"
tarball=$(node --input-type=module -e "import('./dist/test/support/cpython-source.js').then(async (m) => console.log(await m.ensureCpythonSource()))")
echo "   $tarball"

echo "== 2. the build backend for the sample app, fetched into a wheelhouse (the build itself is offline)"
python3 -m pip download --quiet --only-binary=:all: --dest "$work/wheels" setuptools wheel
ls "$work/wheels"

echo "== 3. pyrelo build: examples/hello into a relocatable bundle"
pyrelo build examples/hello --python-source "$tarball" --wheelhouse "$work/wheels" -o "$work/hello.tar.gz"
mkdir -p "$work/somewhere else" && tar -xzf "$work/hello.tar.gz" -C "$work/somewhere else"
(cd / && "$work/somewhere else/bin/hello")

echo "== 4. the compatibility server (SQLite in $work/server) and an agent for this host"
export PYRELO_CONTROL="unix:$work/server/control.sock"
pyrelo server init --data "$work/server" --name 127.0.0.1
# Started without the shell function so that $! is the server itself, which cleanup stops.
node dist/src/client/main.js server --data "$work/server" --listen 127.0.0.1:17443 --enroll-listen 127.0.0.1:17444 --log-level warn &
pids+=($!)
for _ in $(seq 50); do [ -S "$work/server/control.sock" ] && break; sleep 0.2; done
pyrelo hosts add this-host
token=$(pyrelo hosts token this-host | head -n 1)
pyrelo agent enroll --dir "$work/agent" --server 127.0.0.1:17444 --ca "$work/server/pki/ca.crt" --token "$token"
node dist/src/client/main.js agent --dir "$work/agent" --server 127.0.0.1:17443 --log-level warn &
pids+=($!)

echo "== 5. pyrelo deploy to this host, then where the bundle runs"
# This machine is reached by chroot / (no sshd needed); customer hosts are added with
# --ssh user@host[:port] [--jump bastion] and get exactly the same steps.
pyrelo hosts add this-host --chroot / --prefix "$work/deployed"
if [ "$(id -u)" = 0 ]; then
  pyrelo deploy "$work/hello.tar.gz" --host this-host
  pyrelo releases --host this-host
  (cd / && "$work/deployed/current/bin/hello")
else
  echo "   (not root, so no chroot: the bundle is verified by this host's agent instead)"
  pyrelo bundles add "$work/hello.tar.gz"
  pyrelo hosts check hello-pyrelo this-host --verify
fi
pyrelo compat hello-pyrelo  # a bundle is named after the project it installs ([project] name)

echo "== 6. the loader check on its own: the facts it needs about this host"
# -o prints the same summary as a bare `pyrelo inventory`, once.
pyrelo inventory -o "$work/this-host.json.gz"
echo "   stored as $work/this-host.json.gz ($(du -h "$work/this-host.json.gz" | cut -f1))"

echo "== 7. a sample program, linked against libz"
cat > "$work/sample.c" <<'C'
#include <stdio.h>
#include <zlib.h>
int main(void) { printf("zlib %s\n", zlibVersion()); return 0; }
C
gcc -o "$work/sample" "$work/sample.c" -lz
"$work/sample"

echo "== 8. check it on this host, and against the stored inventory"
pyrelo check "$work/sample"
pyrelo check --inventory "$work/this-host.json.gz" "$work/sample"

echo "== 9. a program built against a newer library than the host has: what ld.so would say"
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
