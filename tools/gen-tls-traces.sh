#!/usr/bin/env bash
# gen-tls-traces.sh -- generate real TLS 1.2/1.3 AES-GCM captures + NSS key logs for `nicoff tls replay`.
#
# Origin: the project's copy of shared/tools/gen-tls-traces.sh (the generator of the shared traces in
# shared/tls-traces; that file carries no licence line of its own, so it is used here under the project's
# licence, MIT, see package.json). Header and method below are the original's; nicoff's additions are marked
# "nicoff:" (several connections per capture, comma lists of versions/ciphers, per-run bytes and time bound,
# per-stream tshark verification, generation time and capture size in the manifest, unique namespace names).
#
# Topology (all private, inside namespaces this script creates and deletes):
#   [nicoff_srv] s0 10.77.0.1/24 <--veth--> r0 [nicoff_rtr] r1 <--veth--> c0 10.77.0.2/24 [nicoff_cli]
# The middle namespace has no IP addresses; a small Python AF_PACKET bridge copies frames r0<->r1 and impairs
# server->client TCP data segments (this kernel has no sch_netem, so the impairment is done in user space):
#   reorder : with probability R a data segment is held back and released after K later segments (or 20 ms)
#   loss    : with probability L a data segment is dropped (a real mid-path loss; the sender retransmits)
#   dup     : with probability D a data segment is sent twice
# Decisions come from a seeded PRNG; the bridge writes what it actually did (ground truth) into gen-log.jsonl.
# Capture: tcpdump on c0 in the client namespace = what the *receiving* NIC sees (the RX offload's view).
# All segmentation/GRO/checksum offloads are disabled on the veths so frames are MSS sized with valid checksums.
#
# Requires: root, iproute2, ethtool, tcpdump, openssl 3, node >= 16, python3, tshark (for verification).
# Usage: OUT=DIR BYTES=4000000 [RUNS=FILE] [CONNS=1] [TIMEOUT=60] ./gen-tls-traces.sh
#        (bounded: each transfer <= TIMEOUT s, 60 by default as in the original)
# RUNS names a file of lines 'name tool ver cipher reorder% loss-permille dup-permille seed' (tool: node|openssl;
# ver: tls1.2|tls1.3; cipher: an OpenSSL cipher or TLS 1.3 suite name); without it, the default list below runs.
# Large captures: raise BYTES (and expect each transfer's 60 s bound to limit it).
#
# nicoff: optional columns after seed:  conns  bytes  timeout
#   conns   : N  = N TLS connections one after the other in the same capture (default $CONNS, else 1);
#             Np = N connections at the same time ("3p"). All go to one server port; the bridge impairs all.
#   bytes   : application bytes the server sends per connection ('-' = $BYTES).
#   timeout : the bound in seconds for this run's transfers ('-' = $TIMEOUT, default 60).
# ver and cipher may be comma lists; connection i uses item (i mod length) of each, e.g.
#   mix3  node  tls1.2,tls1.3  ECDHE-RSA-AES128-GCM-SHA256,TLS_AES_128_GCM_SHA256  0 0 0 201 3
# The key log of a multi-connection capture holds every connection's lines (one per-connection file each,
# concatenated in connection order).
set -euo pipefail
OUT=${OUT:?set OUT to the folder that receives the traces}
BYTES=${BYTES:-4000000}
CONNS=${CONNS:-1}
TIMEOUT=${TIMEOUT:-60}
PORT=4433
# nicoff: namespace names carry the PID, so two generators (or the shared one) can run side by side.
S=nicoff_srv$$; R=nicoff_rtr$$; C=nicoff_cli$$
SIP=10.77.0.1
WORK=$(mktemp -d /tmp/nicoff-gen.XXXXXX)
PIDS=()

cleanup() {
  set +e
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
  for ns in $S $R $C; do ip netns del $ns 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# nicoff: check what the runs need first, so a missing tool is one message and exit 2, not a capture-less run.
[ "$(id -u)" = 0 ] || { echo "gen-tls-traces: needs root (it creates network namespaces)" >&2; exit 2; }
for tool in ip ethtool tcpdump openssl node python3; do
  command -v "$tool" >/dev/null || { echo "gen-tls-traces: '$tool' is not installed (tools/setup.sh installs it)" >&2; exit 2; }
done
mkdir -p "$OUT"
# --- helpers written into the temp dir (self-contained) ---------------------------------------
cat > "$WORK/tls-server.js" <<'EOF'
'use strict';
// node tls-server.js <host> <port> <cert> <key> <tls1.2|tls1.3[,..]> <cipher[,..]> <bytes> <seed> [conns] [timeout-s]
// nicoff: serves `conns` connections (each: wait for the request line, stream `bytes`), then exits; connection i
// draws its write sizes from seed+i, so connection 0 is the original single-connection server byte for byte.
const tls = require('tls'), fs = require('fs');
const [host, port, cert, key, verS, cipherS, bytesS, seedS, connsS, timeoutS] = process.argv.slice(2);
const total = Number(bytesS);
const conns = Number(connsS || 1), timeoutMs = 1000 * Number(timeoutS || 60);
const vers = verS.split(',').map((v) => (v === 'tls1.3' ? 'TLSv1.3' : 'TLSv1.2')).sort();
const opts = { cert: fs.readFileSync(cert), key: fs.readFileSync(key), minVersion: vers[0], maxVersion: vers[vers.length - 1] };
opts.ciphers = cipherS.split(',').join(':');   // node takes TLS 1.3 suite names (TLS_AES_...) in 'ciphers' too
let accepted = 0, closed = 0;
const srv = tls.createServer(opts, (sock) => {
  let seed = ((Number(seedS) + accepted++) >>> 0) || 1;
  const rnd = () => { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; return seed; };
  sock.once('data', () => {                 // wait for the request line, then stream `total` bytes
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        const n = Math.min(total - sent, 1 + (rnd() % 24000));   // variable write size -> variable record sizes
        const buf = Buffer.alloc(n);
        for (let i = 0; i < n; i++) buf[i] = (sent + i) & 0xff;
        sent += n;
        if (!sock.write(buf)) { sock.once('drain', pump); return; }
      }
      sock.end();
    };
    pump();
  });
  sock.on('error', (e) => console.error('server socket error:', e.message));
  sock.on('close', () => { if (++closed >= conns) srv.close(); });
});
srv.listen(Number(port), host);
setTimeout(() => { console.error('server timeout'); process.exit(2); }, timeoutMs).unref();
EOF
cat > "$WORK/tls-client.js" <<'EOF'
'use strict';
// node --tls-keylog=FILE tls-client.js <host> <port> <tls1.2|tls1.3> <cipher> [timeout-s]
const tls = require('tls'), crypto = require('crypto');
const [host, port, ver, cipher, timeoutS] = process.argv.slice(2);
const v = ver === 'tls1.3' ? 'TLSv1.3' : 'TLSv1.2';
const opts = { host, port: Number(port), rejectUnauthorized: false, minVersion: v, maxVersion: v, servername: 'nicoff.test' };
opts.ciphers = cipher;   // node takes TLS 1.3 suite names (TLS_AES_...) in 'ciphers' too
const h = crypto.createHash('sha256'); let n = 0;
const t0 = Date.now();
const s = tls.connect(opts, () => s.write('GET /bulk\n'));
s.on('data', (d) => { n += d.length; h.update(d); });
s.on('end', () => { console.log(JSON.stringify({ bytes: n, sha256: h.digest('hex'), protocol: s.getProtocol(), cipher: s.getCipher().standardName, seconds: (Date.now() - t0) / 1000 })); s.end(); });
s.on('error', (e) => { console.error('client error:', e.message); process.exit(1); });
setTimeout(() => { console.error('client timeout'); process.exit(2); }, 1000 * Number(timeoutS || 60)).unref();
EOF
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" -days 2 \
  -subj "/CN=nicoff.test" >/dev/null 2>&1

cat > "$WORK/bridge.py" <<'EOF'
# L2 impairment bridge: python3 bridge.py <in-if(server side)> <out-if(client side)> <port> <seed> <reorder> <K> <loss> <dup> <stats.json>
import socket, select, random, sys, time, json, signal
a_if, b_if, port, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
p_reo, K, p_loss, p_dup, stats_path = float(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7]), float(sys.argv[8]), sys.argv[9]
rng = random.Random(seed)
def sock(ifn):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    s.setsockopt(socket.SOL_SOCKET, 33, 256 << 20)   # SO_RCVBUFFORCE: a slow bridge must queue, not drop
    s.bind((ifn, 0)); s.setblocking(False); return s
A, B = sock(a_if), sock(b_if)
st = dict(s2c_frames=0, s2c_data_segments=0, dropped=0, duplicated=0, reordered=0, c2s_frames=0)
held = []          # [frame, remaining_segments, deadline]
def stop(*_):
    for h in held: B.send(h[0])
    import struct   # PACKET_STATISTICS (SOL_PACKET=263, opt 6): frames the kernel dropped on the bridge's sockets
    st['bridge_socket_drops'] = sum(struct.unpack('II', x.getsockopt(263, 6, 8))[1] for x in (A, B))
    json.dump(st, open(stats_path, 'w')); sys.exit(0)
signal.signal(signal.SIGTERM, stop)
def tcp_data(f):   # server->client TCP segment with payload?
    if len(f) < 54 or f[12:14] != b'\x08\x00' or f[23] != 6: return False
    ihl = (f[14] & 15) * 4; t = 14 + ihl
    if int.from_bytes(f[t:t+2], 'big') != port: return False
    return int.from_bytes(f[16:18], 'big') - ihl - (f[t+12] >> 4) * 4 > 0
while True:
    r, _, _ = select.select([A, B], [], [], 0.002)
    now = time.monotonic()
    for h in [h for h in held if h[2] <= now]: B.send(h[0]); held.remove(h)
    if B in r:
        while True:
            try: f, addr = B.recvfrom(65535)
            except BlockingIOError: break
            if addr[2] == socket.PACKET_OUTGOING: continue
            st['c2s_frames'] += 1; A.send(f)
    if A in r:
        while True:
            try: f, addr = A.recvfrom(65535)
            except BlockingIOError: break
            if addr[2] == socket.PACKET_OUTGOING: continue
            st['s2c_frames'] += 1
            if not tcp_data(f): B.send(f); continue
            st['s2c_data_segments'] += 1
            x = rng.random()
            if x < p_loss: st['dropped'] += 1; continue
            if x < p_loss + p_reo: st['reordered'] += 1; held.append([f, K, now + 0.02]); continue
            B.send(f)
            if x < p_loss + p_reo + p_dup: st['duplicated'] += 1; B.send(f)
            for h in list(held):
                h[1] -= 1
                if h[1] <= 0: B.send(h[0]); held.remove(h)
EOF

setup_net() {
  for ns in $S $R $C; do
    ip netns del $ns 2>/dev/null || true; ip netns add $ns; ip -n $ns link set lo up
    ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  done
  ip link add s0 netns $S type veth peer name r0 netns $R
  ip link add c0 netns $C type veth peer name r1 netns $R
  ip -n $S addr add 10.77.0.1/24 dev s0
  ip -n $C addr add 10.77.0.2/24 dev c0
  for pair in "$S s0" "$R r0" "$R r1" "$C c0"; do
    set -- $pair
    ip -n $1 link set $2 up promisc on
    ip netns exec $1 ethtool -K $2 tso off gso off gro off tx off rx off >/dev/null 2>&1 || true
  done
}

# impair <reorder%> <loss-per-mille> <dup-per-mille> <seed>   (server->client data segments only)
impair() {
  ip netns exec $R python3 -u "$WORK/bridge.py" r0 r1 $PORT "$4" "$(awk "BEGIN{print $1/100}")" 3 \
     "$(awk "BEGIN{print $2/1000}")" "$(awk "BEGIN{print $3/1000}")" "$WORK/bridge.json" &
  BRIDGE=$!; PIDS+=($BRIDGE)
  sleep 0.3
}

# nicoff: item <comma-list> <i> -> the list's item i, cycling (connection i's version / cipher).
item() { local IFS=,; local a=($1); echo "${a[$(( $2 % ${#a[@]} ))]}"; }

# run_one <name> <tool node|openssl> <ver[,ver..]> <cipher[,cipher..]> <reorder%> <loss‰> <dup‰> <seed> [conns[p]] [bytes|-] [timeout|-]
run_one() {
  local name=$1 tool=$2 ver=$3 cipher=$4 reo=$5 loss=$6 dup=$7 seed=$8
  local connspec=${9:-$CONNS} bytes=${10:--} tmo=${11:--}
  [ "$bytes" = - ] && bytes=$BYTES
  [ "$tmo" = - ] && tmo=$TIMEOUT
  local conns=${connspec%p} par=false
  [ "$connspec" != "$conns" ] && par=true
  local pcap="$OUT/$name.pcap" klog="$OUT/$name.keylog"
  local t0; t0=$(date +%s.%N)
  rm -f "$pcap" "$klog"
  setup_net
  rm -f "$WORK/bridge.json"; impair "$reo" "$loss" "$dup" "$seed"
  rm -f "$WORK/tcpdump.err" "$WORK"/res.* "$WORK"/klog.* "$WORK"/recv.*
  ip netns exec $C tcpdump -i c0 -s 0 -U --immediate-mode -B 32768 -w "$pcap" "tcp port $PORT" 2>"$WORK/tcpdump.err" &
  local tdp=$!; PIDS+=($tdp)
  for _ in $(seq 50); do grep -q listening "$WORK/tcpdump.err" 2>/dev/null && break; sleep 0.1; done
  local sp i cpids=()
  if [ "$tool" = node ]; then
    ip netns exec $S timeout $((tmo + 10)) node "$WORK/tls-server.js" $SIP $PORT "$WORK/cert.pem" "$WORK/key.pem" \
        "$ver" "$cipher" "$bytes" "$seed" "$conns" "$tmo" & sp=$!; PIDS+=($sp)
  else
    head -c "$bytes" /dev/urandom > "$WORK/blob.bin"
    local sflags="" v
    for v in ${ver//,/ }; do
      if [ "$v" = tls1.3 ]; then sflags+=" -ciphersuites $(tr , '\n' <<<"$cipher" | awk '/^TLS_/' | paste -sd:)"
      else sflags+=" -cipher $(tr , '\n' <<<"$cipher" | awk '!/^TLS_/' | paste -sd:)"; fi
    done
    [ "${ver//,/}" = tls1.3 ] && sflags="-tls1_3$sflags"
    [ "${ver//,/}" = tls1.2 ] && sflags="-tls1_2$sflags"
    (cd "$WORK" && exec ip netns exec $S timeout $((tmo + 10)) openssl s_server -accept $SIP:$PORT -cert cert.pem -key key.pem \
        $sflags -WWW -naccept "$conns" -quiet >/dev/null 2>&1) & sp=$!; PIDS+=($sp)
  fi
  sleep 0.5
  local tx0; tx0=$(date +%s.%N)
  for i in $(seq 0 $((conns - 1))); do
    if $par; then client "$tool" "$i" "$(item "$ver" "$i")" "$(item "$cipher" "$i")" "$tmo" & cpids+=($!); PIDS+=($!)
    else client "$tool" "$i" "$(item "$ver" "$i")" "$(item "$cipher" "$i")" "$tmo"; fi
  done
  for i in "${cpids[@]:-}"; do [ -n "$i" ] && { wait "$i" || true; }; done
  wait $sp || true
  local tx1; tx1=$(date +%s.%N)
  for i in $(seq 0 $((conns - 1))); do cat "$WORK/klog.$i" 2>/dev/null || true; done > "$klog"
  local res; res=$(python3 - "$WORK" "$conns" <<'EOF'
import json, sys
w, n = sys.argv[1], int(sys.argv[2])
rs = []
for i in range(n):
    try: rs.append(json.loads(open(f'{w}/res.{i}').read().strip().splitlines()[-1]))
    except Exception: rs.append({'error': True})
print(json.dumps(rs[0]) if n == 1 else json.dumps({'bytes': sum(r.get('bytes', 0) for r in rs), 'connections': n, 'per_connection': rs}))
EOF
)
  # let tcpdump drain: stop only when the pcap has not grown for 1 s
  local last=-1 cur
  for _ in $(seq 40); do cur=$(stat -c %s "$pcap" 2>/dev/null || echo 0); [ "$cur" = "$last" ] && break; last=$cur; sleep 1; done
  kill -INT $tdp 2>/dev/null || true; wait $tdp 2>/dev/null || true
  local kdrop; kdrop=$(grep -o '[0-9]* packets dropped by kernel' "$WORK/tcpdump.err" | awk '{print $1}') || true
  kill -TERM $BRIDGE 2>/dev/null || true; wait $BRIDGE 2>/dev/null || true
  local bst; bst=$(cat "$WORK/bridge.json" 2>/dev/null || echo '{}')
  for ns in $S $R $C; do ip netns del $ns 2>/dev/null || true; done
  local t1; t1=$(date +%s.%N)
  local gen transfer; gen=$(awk "BEGIN{printf \"%.1f\", $t1 - $t0}"); transfer=$(awk "BEGIN{printf \"%.1f\", $tx1 - $tx0}")
  [ -s "$pcap" ] || { echo "gen-tls-traces: $name: tcpdump wrote no capture" >&2; exit 1; }
  echo "$name tool=$tool ver=$ver cipher=$cipher conns=$connspec bytes/conn=$bytes reorder=$reo% loss=${loss}permille dup=${dup}permille bridge=$bst client=$res gen=${gen}s transfer=${transfer}s pcap=$(stat -c %s "$pcap") B"
  { grep -v "\"file\":\"$name.pcap\"" "$OUT/gen-log.jsonl" 2>/dev/null || true; } > "$WORK/gen-log.tmp"
  echo "{\"file\":\"$name.pcap\",\"keylog\":\"$name.keylog\",\"tool\":\"$tool\",\"version\":\"$ver\",\"cipher\":\"$cipher\",\"conns\":$conns,\"concurrent\":$par,\"bytes_per_conn\":$bytes,\"timeout_s\":$tmo,\"reorder_pct\":$reo,\"loss_permille\":$loss,\"dup_permille\":$dup,\"injected\":$bst,\"tcpdump_kernel_drops\":${kdrop:-null},\"client\":$res,\"gen_seconds\":$gen,\"transfer_seconds\":$transfer,\"pcap_bytes\":$(stat -c %s "$pcap")}" >> "$WORK/gen-log.tmp"
  mv "$WORK/gen-log.tmp" "$OUT/gen-log.jsonl"
  GENERATED+=("$name")
}

# client <tool> <i> <ver> <cipher> <timeout>: connection i; result JSON in $WORK/res.i, key log in $WORK/klog.i
client() {
  local tool=$1 i=$2 v=$3 c=$4 tmo=$5
  if [ "$tool" = node ]; then
    ip netns exec $C timeout $((tmo + 10)) node --tls-keylog="$WORK/klog.$i" "$WORK/tls-client.js" $SIP $PORT "$v" "$c" "$tmo" \
        > "$WORK/res.$i" 2>>"$WORK/client.err" || echo '{"error":true}' >> "$WORK/res.$i"
  else
    local cflags="-tls1_2 -cipher $c"; [ "$v" = tls1.3 ] && cflags="-tls1_3 -ciphersuites $c"
    printf 'GET /blob.bin HTTP/1.0\r\n\r\n' | ip netns exec $C timeout $((tmo + 10)) openssl s_client -connect $SIP:$PORT \
        $cflags -keylogfile "$WORK/klog.$i" -quiet -ign_eof > "$WORK/recv.$i" 2>/dev/null || true
    echo "{\"bytes\": $(stat -c %s "$WORK/recv.$i"), \"protocol\": \"$v\", \"note\": \"includes HTTP/1.0 response header\"}" > "$WORK/res.$i"
  fi
}

GENERATED=()
touch "$OUT/gen-log.jsonl"
if [ -n "${RUNS:-}" ]; then
  while read -r n t v c r l d sd cn by to <&3; do
    case "$n" in ''|'#'*) continue;; esac
    run_one "$n" "$t" "$v" "$c" "$r" "$l" "$d" "$sd" "${cn:-$CONNS}" "${by:--}" "${to:--}" </dev/null
  done 3< "$RUNS"
else
#       name                         tool    ver    cipher                                   reo loss dup seed
run_one t12-aes128gcm-clean          node    tls1.2 ECDHE-RSA-AES128-GCM-SHA256              0   0    0   101
run_one t13-aes128gcm-clean          node    tls1.3 TLS_AES_128_GCM_SHA256                   0   0    0   102
run_one t12-aes128gcm-reorder        node    tls1.2 ECDHE-RSA-AES128-GCM-SHA256              3   0    0   103
run_one t13-aes128gcm-loss           node    tls1.3 TLS_AES_128_GCM_SHA256                   0   10   0   104
run_one t12-aes128gcm-ossl-clean     openssl tls1.2 ECDHE-RSA-AES128-GCM-SHA256              0   0    0   105
fi
echo "done: ${#GENERATED[@]} pcaps generated in $OUT: ${GENERATED[*]:-}"

# --- verification with tshark: decrypt with the key log, count records/bytes and TCP analysis flags ----------
# nicoff: every TLS stream of a capture is followed (one tshark pass, one -z follow per stream), and the
# server's TCP payload bytes and the verification time are recorded.
verify() {   # verify <name>  -> one JSON line
  local name=$1 pcap="$OUT/$1.pcap" klog="$OUT/$1.keylog" v0; v0=$(date +%s.%N)
  local T=(tshark -n -r "$pcap" "${H[@]}" -o tcp.reassemble_out_of_order:TRUE -d tcp.port==$PORT,tls -o "tls.keylog_file:$klog")
  local rec; rec=$("${T[@]}" -T fields -E occurrence=a -e tcp.srcport -e tls.record.content_type \
        -e tls.record.opaque_type -e data.len -Y "tls" 2>/dev/null | awk -F'\t' -v P=$PORT '
      { dir = ($1 == P) ? "s2c" : "c2s"
        n = split($2, ct, ","); m = split($3, ot, ",")
        if (m > 0) { for (i = 1; i <= m; i++) if (ot[i] == 23) enc[dir]++ }      # TLS 1.3: outer type
        else       { for (i = 1; i <= n; i++) if (ct[i] == 23) enc[dir]++ }      # TLS 1.2
        k = split($4, dl, ","); for (i = 1; i <= k; i++) if (dl[i] != "") { app[dir]++; bytes[dir] += dl[i] } }
      END { printf "\"enc_appdata_records_s2c\":%d,\"decrypted_app_records_s2c\":%d,\"decrypted_app_bytes_s2c\":%d,\"decrypted_app_records_c2s\":%d,\"decrypted_app_bytes_c2s\":%d",
            enc["s2c"], app["s2c"], bytes["s2c"], app["c2s"], bytes["c2s"] }')
  local flagsraw; flagsraw=$(tshark -n -r "$pcap" -Y "tcp.srcport==$PORT" -T fields -e frame.number -e tcp.len \
        -e tcp.analysis.out_of_order -e tcp.analysis.retransmission -e tcp.analysis.fast_retransmission \
        -e tcp.analysis.spurious_retransmission -e tcp.analysis.lost_segment -e tcp.analysis.duplicate_ack_num -e tcp.stream 2>/dev/null)
  local flags; flags=$(awk -F'\t' '{ pk++; if ($2 > 0) { data++; pl += $2 } if ($3 != "") ooo++; if ($4 != "") rtx++; if ($5 != "") frtx++; if ($6 != "") srtx++; if ($7 != "") lost++ }
        END { printf "\"s2c_packets\":%d,\"s2c_data_segments\":%d,\"s2c_tcp_payload_bytes\":%d,\"out_of_order\":%d,\"retransmission\":%d,\"fast_retransmission\":%d,\"spurious_retransmission\":%d,\"prev_segment_not_captured\":%d", pk, data, pl, ooo, rtx, frtx, srtx, lost }' <<<"$flagsraw")
  local streams; streams=$(awk -F'\t' '{print $9}' <<<"$flagsraw" | sort -un)
  local Z=(); for st in $streams; do Z+=(-z "follow,tls,raw,$st"); done
  local follow; follow=$("${T[@]}" -q "${Z[@]}" 2>/dev/null | awk '
      /^Filter: tcp.stream eq/ { cur = $4; order[++ns] = cur; next }
      /^\t[0-9a-f]+$/ { t[cur] += length($1) / 2; next }
      /^[0-9a-f]+$/ { u[cur] += length($1) / 2 }
      END { for (i = 1; i <= ns; i++) { s = order[i]; big = (t[s] > u[s] ? t[s] : u[s]); small = (t[s] > u[s] ? u[s] : t[s]); B += big; O += small; L = L (i > 1 ? "," : "") big }
            printf "\"tls_streams\":%d,\"follow_tls_bytes_bulk\":%d,\"follow_tls_bytes_other\":%d,\"follow_tls_bytes_bulk_per_stream\":[%s]", ns, B, O, L }')
  local dupack; dupack=$(tshark -n -r "$pcap" -Y "tcp.dstport==$PORT && tcp.analysis.duplicate_ack" 2>/dev/null | wc -l)
  local vs; vs=$(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $v0}")
  echo "{\"file\":\"$name.pcap\",$rec,$follow,$flags,\"dup_acks_c2s\":$dupack,\"verify_seconds\":$vs}"
}
if command -v tshark >/dev/null && [ ${#GENERATED[@]} -gt 0 ]; then
  set +e +o pipefail
  # decrypted payload must go to the plain 'data' dissector: turn off every heuristic sub-dissector of TLS
  H=(); P1="$OUT/${GENERATED[0]}.pcap"
  for h in $(tshark -G heuristic-decodes 2>/dev/null | awk '$1=="tls"{print $2}'); do
    if tshark -r "$P1" -c 1 --disable-heuristic "${h}_tls" >/dev/null 2>&1; then H+=(--disable-heuristic "${h}_tls")
    elif tshark -r "$P1" -c 1 --disable-protocol "$h" >/dev/null 2>&1; then H+=(--disable-protocol "$h"); fi
  done
  touch "$OUT/verify.jsonl"
  for name in "${GENERATED[@]}"; do
    line=$(verify "$name")
    { grep -v "\"file\":\"$name.pcap\"" "$OUT/verify.jsonl" || true; echo "$line"; } > "$WORK/verify.tmp"
    mv "$WORK/verify.tmp" "$OUT/verify.jsonl"
    echo "verified $name: $line"
  done
  # nicoff: manifest.json / manifest.md (the table) and MANIFEST.md (table + how it was made), for every capture
  # generated into OUT so far (later runs of the same name replace earlier ones).
  node - "$OUT" "$(tshark --version 2>/dev/null | head -1)" "$(uname -r)" <<'EOF'
    const fs = require("fs"), [out, tsharkVersion, kernel] = process.argv.slice(2);
    const rd = (f) => fs.existsSync(f) ? fs.readFileSync(f, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l)) : [];
    const gen = Object.fromEntries(rd(out + "/gen-log.jsonl").map((g) => [g.file, g]));
    const rows = rd(out + "/verify.jsonl").filter((v) => gen[v.file] && fs.existsSync(`${out}/${v.file}`))
      .map((v) => ({ ...gen[v.file], tshark: v })).sort((a, b) => a.file.localeCompare(b.file));
    fs.writeFileSync(out + "/manifest.json", JSON.stringify(rows, null, 1) + "\n");
    const mb = (n) => (n / 1e6).toFixed(1);
    const L = ["| file | conns | tool | TLS | cipher | impairment asked (reorder %/loss ‰/dup ‰) | injected by bridge (dropped/reordered/duplicated of N data segs; +unintended bridge socket drops) | app bytes received by client | tshark decrypted app records s->c / bytes | out-of-order | retransmissions (fast/spurious) | prev-seg-not-captured | dup ACKs | s->c data segs | s->c TCP payload MB | pcap MB | generation s (transfer s) | tcpdump kernel drops |",
               "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"];
    const notes = [];
    for (const r of rows) { const t = r.tshark, inj = r.injected || {};
      L.push(`| ${r.file} | ${r.conns ?? 1}${r.concurrent ? " (concurrent)" : ""} | ${r.tool} | ${r.version} | ${r.cipher} | ${r.reorder_pct}/${r.loss_permille}/${r.dup_permille} | ${inj.dropped}/${inj.reordered}/${inj.duplicated} of ${inj.s2c_data_segments}; +${inj.bridge_socket_drops} | ${r.client.bytes} | ${t.decrypted_app_records_s2c} / ${t.decrypted_app_bytes_s2c} | ${t.out_of_order} | ${t.retransmission} (${t.fast_retransmission}/${t.spurious_retransmission}) | ${t.prev_segment_not_captured} | ${t.dup_acks_c2s} | ${t.s2c_data_segments} | ${mb(t.s2c_tcp_payload_bytes)} | ${mb(r.pcap_bytes)} | ${r.gen_seconds} (${r.transfer_seconds}) | ${r.tcpdump_kernel_drops} |`);
      const expected = r.client.bytes;
      if (t.decrypted_app_bytes_s2c !== expected) notes.push(`${r.file}: tshark decrypted ${t.decrypted_app_bytes_s2c} server bytes, the client received ${expected}.`);
      if (t.follow_tls_bytes_bulk !== t.decrypted_app_bytes_s2c) notes.push(`${r.file}: follow,tls gives ${t.follow_tls_bytes_bulk} bulk bytes, the data.len sum ${t.decrypted_app_bytes_s2c}.`);
      if (t.tls_streams !== (r.conns ?? 1)) notes.push(`${r.file}: ${t.tls_streams} TLS streams for ${r.conns ?? 1} connections.`);
      if (r.reorder_pct == 0 && r.loss_permille == 0 && r.dup_permille == 0 && t.retransmission > 0) notes.push(`${r.file}: ${t.retransmission} retransmission(s) (${t.spurious_retransmission} spurious) although the bridge impaired nothing: the sender's tail-loss probe fired while the user-space bridge held data or ACKs up (it stalls on a busy machine); tshark flags them like any retransmission.`);
      if (r.reorder_pct == 0 && r.loss_permille == 0 && t.out_of_order + t.prev_segment_not_captured > 0) notes.push(`${r.file}: ${t.out_of_order} out-of-order segment(s) and ${t.prev_segment_not_captured} hole(s) although the bridge reordered and dropped nothing: frames crossed on a busy machine; the receiving NIC sees this as reordering, and nicoff's tests treat the capture as impaired.`);
      if (r.tcpdump_kernel_drops) notes.push(`${r.file}: tcpdump reports ${r.tcpdump_kernel_drops} packets dropped by the kernel (the capture misses them).`);
      if (inj.bridge_socket_drops) notes.push(`${r.file}: the bridge's sockets dropped ${inj.bridge_socket_drops} frames it never saw (unintended loss).`);
      const errs = (r.client.per_connection || [r.client]).filter((c) => c.error).length;
      if (errs) notes.push(`${r.file}: ${errs} client(s) failed or hit the time bound.`);
      if (r.tool === "node" && r.client.bytes !== (r.conns ?? 1) * r.bytes_per_conn) notes.push(`${r.file}: the client received ${r.client.bytes} bytes of the ${(r.conns ?? 1) * r.bytes_per_conn} asked (time bound?).`);
    }
    fs.writeFileSync(out + "/manifest.md", L.join("\n") + "\n");
    const M = [
      "# TLS traces generated by tools/gen-tls-traces.sh",
      "",
      "Written by tools/gen-tls-traces.sh (`npm run tls:traces`, runs in tools/tls-trace-runs.txt); regenerate rather than edit. The method is that of shared/tls-traces: a TLS server and client (Node's tls module, or openssl s_server/s_client) in two network namespaces joined by a bridge namespace whose seeded Python bridge drops, holds back or duplicates server-to-client data segments; tcpdump captures on the client side (what a receiving NIC sees). Each .keylog is the NSS key log the client(s) wrote; a capture with several connections has all of them in one key log.",
      "",
      `Figures from ${tsharkVersion.replace(/\.$/, "")}: TCP analysis flags, and TLS decryption with tcp.reassemble_out_of_order on, every TLS stream followed; kernel ${kernel}. "generation s" is the whole run (namespaces, transfer, tcpdump drain); "transfer s" is the clients' part.`,
      "",
      ...L,
      "",
      "App bytes for the openssl traces include the 45-byte HTTP/1.0 response header that s_server -WWW sends (per connection).",
      "",
      "## Checks",
      "",
      ...notes.map((n) => `- ${n}`),
      `- ${notes.length ? "Otherwise, for" : "For"} every capture: tshark decrypted exactly the bytes the client(s) received (data.len sum and follow,tls agree), followed one TLS stream per connection, no client hit the time bound, and neither tcpdump nor the bridge sockets dropped frames.`,
      "",
      "## The oracle command",
      "",
      "    tshark -n -r CAPTURE -o tcp.reassemble_out_of_order:TRUE -o tls.desegment_ssl_records:TRUE \\",
      "        -o tls.desegment_ssl_application_data:TRUE -o tls.keylog_file:KEYLOG -q -z follow,tls,raw,N",
      "",
      "Stream numbers: `tshark -n -r CAPTURE -T fields -e tcp.stream -Y tls`. Raw per-capture figures: manifest.json.",
      "",
    ];
    fs.writeFileSync(out + "/MANIFEST.md", M.join("\n"));
    console.log(L.join("\n")); for (const n of notes) console.log("note: " + n);
EOF
fi
