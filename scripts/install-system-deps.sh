#!/bin/sh
# Installs the Debian packages pyrelo's build and tests need. Idempotent: when all are
# present (checked with dpkg-query) it does nothing and needs neither root nor network.
#   lab (test/lab):  debootstrap busybox-static musl openssh-client openssh-server
#                    qemu-user-static (the arm64 roots run under qemu-aarch64, registered by the lab with binfmt_misc)
#                    (debootstrap's keyring: debian-archive-keyring; unshare/setpriv: util-linux; ip: iproute2)
#   rest of pyrelo:  patchelf libtree gcc binutils file (file also brings libmagic1, which a build test dlopens by name)
#   pyrelo build and its tests: libyaml-dev (a test extension links libyaml), zstd, xz-utils (.tar.zst, .tar.xz),
#                    zsh and fish (bin/activate and bin/activate.fish are sourced by each shell)
#   pyrelo build --python-source / --python VERSION (zig compiles the libraries: perl for OpenSSL, tcl for SQLite, pkg-config;
#                    the -dev packages below serve the gcc fallback on machines without a pinned zig):
#                    make libssl-dev libsqlite3-dev libffi-dev zlib1g-dev libbz2-dev liblzma-dev
#   ELF reader tests: gcc-multilib (ELF32), binutils-s390x-linux-gnu and binutils-powerpc-linux-gnu (big endian)
#   page-size tests: binutils-aarch64-linux-gnu (aarch64 libraries linked for 4 and 64 KiB pages)
#   dashboard tests: chromium (driven headless by playwright-core at /usr/bin/chromium)
set -eu

PACKAGES="g++ make perl tcl pkg-config python3 python3-pip openssl systemd gcc-multilib binutils-s390x-linux-gnu binutils-powerpc-linux-gnu binutils-aarch64-linux-gnu debootstrap debian-archive-keyring qemu-user-static busybox-static musl openssh-client openssh-server util-linux iproute2 patchelf libtree gcc binutils file libyaml-dev zstd xz-utils zsh fish libssl-dev libsqlite3-dev libffi-dev zlib1g-dev libbz2-dev liblzma-dev chromium"

missing=""
for pkg in $PACKAGES; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  case "$status" in
    "install ok installed") ;;
    *) missing="$missing $pkg" ;;
  esac
done

if [ -z "$missing" ]; then
  echo "install-system-deps: all present:$(printf ' %s' $PACKAGES)"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-system-deps: missing packages:$missing" >&2
  echo "install-system-deps: run as root (or: sudo apt-get install$missing)" >&2
  exit 1
fi

echo "install-system-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086 # word splitting of the package list is intended
apt-get install -y -q --no-install-recommends $missing
