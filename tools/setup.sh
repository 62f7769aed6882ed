#!/usr/bin/env bash
# One-time set-up on a fresh Debian 12 machine (run as root): the system
# packages nicoff's tests use as oracles, the BPF filesystem, npm packages,
# the kernel runner and the TypeScript build. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(clang llvm clang-19 llvm-19 bpftool libbpf-dev libc6-dev-i386 tcpdump tshark iputils-ping iproute2 ethtool openssl gcc make)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing Debian packages (${missing[*]}); run this script as root" >&2
    exit 2
  fi
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; answer for it.
  echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# bpftool and the kernel runner pin nothing by default, but bpftool prog load needs bpffs.
if [ "$(id -u)" = 0 ] && ! mountpoint -q /sys/fs/bpf; then
  mount -t bpf bpf /sys/fs/bpf
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build:native
npm run --silent build
bash tools/build-binutils-nfp.sh # objdump for nfp-elf, the NFP codec's oracle (cached in build/; ~6 min fresh)
