#!/usr/bin/env bash
# Builds GNU objdump with the NFP target from Debian's binutils-source package and
# installs it as build/binutils-nfp/bin/nfp-objdump: the independent oracle that
# test/nfp-backend/binutils-oracle.test.ts compares nicoff's NFP disassembler with.
# Debian's binutils-multiarch leaves the NFP target out, hence the build.
#
# Cached twice: nothing is done when build/'s binary carries the stamp of this
# script and source version; otherwise a binary with that stamp in the machine
# cache (~/.cache/nicoff/binutils-nfp, also where the source .deb is kept) is
# copied in; otherwise it is built (about 4-6 minutes on the project's 2-core
# machines, most of it in the configure scripts) and put in both places. Only
# objdump is built (no ar/ld/gas/gdb/docs), so bison, flex and texinfo are not needed.
#
# Usage: tools/build-binutils-nfp.sh [--force]
# Env:   NICOFF_BINUTILS_NFP_DIR  install directory (default build/binutils-nfp)
#        NICOFF_CACHE_DIR         machine cache (default ${XDG_CACHE_HOME:-~/.cache}/nicoff)
set -euo pipefail
cd "$(dirname "$0")/.."

out="${NICOFF_BINUTILS_NFP_DIR:-$PWD/build/binutils-nfp}"
cache="${NICOFF_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/nicoff}/binutils-nfp"
force=0
[ "${1:-}" = "--force" ] && force=1

log() { echo "build-binutils-nfp: $*" >&2; }

# Build tools: gcc and make (also in setup.sh), xz for the source tarball.
need=()
command -v gcc >/dev/null 2>&1 || need+=(gcc)
command -v make >/dev/null 2>&1 || need+=(make)
command -v xz >/dev/null 2>&1 || need+=(xz-utils)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    log "missing build tools (${need[*]}); install them or run as root"
    exit 2
  fi
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

mkdir -p "$cache"

# The source: binutils-source's tarball, from the installed package or a downloaded .deb.
tarball=$(ls /usr/src/binutils/binutils-*.tar.* 2>/dev/null | head -n1 || true)
if [ -n "$tarball" ]; then
  version="installed-$(dpkg-query -W -f='${Version}' binutils-source 2>/dev/null || echo unknown)"
else
  deb=$(ls "$cache"/binutils-source_*.deb 2>/dev/null | sort -V | tail -n1 || true)
  if [ -z "$deb" ]; then
    log "downloading binutils-source"
    # apt-get download needs package lists; fetch them once if it fails without.
    if ! (cd "$cache" && apt-get download binutils-source >/dev/null 2>&1); then
      if [ "$(id -u)" = 0 ]; then apt-get update -qq; fi
      (cd "$cache" && apt-get download binutils-source >/dev/null)
    fi
    deb=$(ls "$cache"/binutils-source_*.deb | sort -V | tail -n1)
  fi
  version=$(basename "$deb" .deb)
fi
want="$version $(sha256sum "$0" | cut -c1-16)"

install_from() { # dir holding bin/nfp-objdump
  mkdir -p "$out/bin"
  install -m 0755 "$1/bin/nfp-objdump" "$out/bin/nfp-objdump"
  echo "$want" >"$out/bin/nfp-objdump.stamp"
}
stamp_ok() { [ -x "$1/bin/nfp-objdump" ] && [ "$(cat "$1/bin/nfp-objdump.stamp" 2>/dev/null)" = "$want" ]; }

if [ "$force" = 0 ] && stamp_ok "$out"; then
  exit 0
fi
if [ "$force" = 0 ] && stamp_ok "$cache"; then
  install_from "$cache"
  log "installed $out/bin/nfp-objdump from $cache"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/nicoff-binutils-nfp.XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
if [ -z "$tarball" ]; then
  dpkg-deb -x "$deb" "$work/deb"
  tarball=$(ls "$work"/deb/usr/src/binutils/binutils-*.tar.* | head -n1)
fi
log "building objdump for nfp-elf from $(basename "$tarball") ($version)"
tar -xf "$tarball" -C "$work"
src=$(ls -d "$work"/binutils-*/ | head -n1)
mkdir -p "$work/obj"
jobs=$(nproc 2>/dev/null || echo 2)
(
  cd "$work/obj"
  # -C: one configure cache shared by the sub-configures; -O1 without debug info: the
  # oracle disassembles a few thousand words, so compile time matters, not speed.
  CFLAGS="-O1 -g0" CXXFLAGS="-O1 -g0" "$src/configure" -C --target=nfp-elf --prefix="$out" \
    --disable-gdb --disable-gdbserver --disable-gold --disable-gprofng --disable-ld --disable-gas \
    --disable-sim --disable-gprof --disable-libdecnumber --disable-readline --disable-libctf \
    --disable-plugins --disable-shared --disable-nls --disable-werror \
    --without-zstd --without-debuginfod --without-msgpack \
    MAKEINFO=true >configure.log 2>&1 || { tail -n 30 configure.log >&2; exit 1; }
  # Only what objdump links; all-binutils would also build ar, whose lexer needs flex.
  make -j"$jobs" MAKEINFO=true configure-binutils all-libiberty all-zlib all-bfd all-opcodes all-libsframe \
    >make.log 2>&1 || { tail -n 30 make.log >&2; exit 1; }
  make -C binutils -j"$jobs" MAKEINFO=true objdump >>make.log 2>&1 || { tail -n 30 make.log >&2; exit 1; }
)
mkdir -p "$work/bin"
cp "$work/obj/binutils/objdump" "$work/bin/nfp-objdump"
install_from "$work"
mkdir -p "$cache/bin"
install -m 0755 "$work/bin/nfp-objdump" "$cache/bin/nfp-objdump"
echo "$want" >"$cache/bin/nfp-objdump.stamp"
log "installed $out/bin/nfp-objdump in $(( $(date +%s) - start ))s"
"$out/bin/nfp-objdump" --version | head -n1 >&2
