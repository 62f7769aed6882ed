#!/bin/sh
# Rebuild every examples/<name>.o from examples/<name>.c and record the compiler
# in README.md's provenance line. Re-runnable; CLANG=clang-19 ./build.sh to try another clang.
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-clang}
CFLAGS="-O2 -g -Wall -target bpf -I/usr/include/$(uname -m)-linux-gnu"
# The NFP golden programs are compiled the way nfp-golden/README.md says: -mcpu=v2.
NFP_GOLDEN="xdp_udp53 xdp_alu xdp_count"

for src in *.c; do
	name=${src%.c}
	extra=""
	for golden in $NFP_GOLDEN; do
		[ "$name" = "$golden" ] && extra="-mcpu=v2"
	done
	$CLANG $CFLAGS $extra -c "$src" -o "$name.o"
	echo "built $name.o"
done

version=$($CLANG --version | head -n 1)
line="Provenance: objects built by \`build.sh\` with $version (\`-O2 -g -target bpf\`; xdp_udp53, xdp_alu, xdp_count also \`-mcpu=v2\`)."
if [ -f README.md ] && grep -q '^Provenance:' README.md; then
	tmp=$(mktemp)
	awk -v line="$line" '/^Provenance:/ { print line; next } { print }' README.md >"$tmp"
	cat "$tmp" >README.md
	rm -f "$tmp"
fi
