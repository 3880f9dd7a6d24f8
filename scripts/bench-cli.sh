#!/usr/bin/env bash
# Measures `valise seal` and `valise open` on a generated file (1 GiB by
# default): wall time, throughput and peak RSS (GNU time), and compares the
# open throughput with `openssl speed -evp aes-256-gcm` on 16 KiB blocks,
# measured in the same run on the same machine, both per CPU second and in
# wall time (seal and open spread segments over two worker threads, so
# their wall time can be shorter than their CPU time).
#
# Usage: scripts/bench-cli.sh [SIZE_MIB]
#
# The files go to BENCH_DIR (default /dev/shm, a RAM disk, when it exists)
# so that the figures measure the CLI and not the disk.
set -euo pipefail
cd "$(dirname "$0")/.."

size_mib="${1:-1024}"
cargo build --release -p valise --locked >&2
valise="$PWD/target/release/valise"

default_dir=/tmp
[ -d /dev/shm ] && default_dir=/dev/shm
work="$(mktemp -d -p "${BENCH_DIR:-$default_dir}")"
trap 'rm -rf "$work"' EXIT
cd "$work"

"$valise" keygen --out alice --no-encrypt >/dev/null
"$valise" keygen --out bob --no-encrypt >/dev/null
head -c "$((size_mib * 1024 * 1024))" /dev/urandom > input.bin

# Runs a command under GNU time; prints "wall_s cpu_s max_rss_kib" (CPU = user + system).
measure() {
  /usr/bin/time -f '%e %U %S %M' -o time.txt "$@" 2>/dev/null
  awk '{ print $1, $2 + $3, $4 }' time.txt
}

read -r seal_s seal_cpu seal_kib < <(measure "$valise" seal input.bin --to bob.pub.pem --sign-key alice.key.pem --label TLP:AMBER -o input.tdf)
read -r open_s open_cpu open_kib < <(measure "$valise" open input.tdf --key bob.key.pem --signer alice.pub.pem -o output.bin)
cmp input.bin output.bin

# openssl speed prints "AES-256-GCM ... <16384 B>" in thousands of bytes per
# second of user CPU time (its default divisor), or of wall time with
# -elapsed. The SHA-256 figure bounds what open can reach: it hashes every
# byte twice (each encrypted segment, then the whole plaintext).
openssl_rate() {
  openssl speed "$@" -bytes 16384 -seconds 3 2>/dev/null | awk '/^AES-256-GCM|^aes-256-gcm|^sha256/ { v = $NF } END { sub(/k$/, "", v); print v }'
}
openssl_kbs="$(openssl_rate -evp aes-256-gcm)"
openssl_wall_kbs="$(openssl_rate -elapsed -evp aes-256-gcm)"
sha256_kbs="$(openssl_rate -evp sha256)"

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$(openssl version)"
awk -v mib="$size_mib" -v ss="$seal_s" -v sc="$seal_cpu" -v sk="$seal_kib" -v os="$open_s" -v oc="$open_cpu" -v ok="$open_kib" \
    -v ossl="$openssl_kbs" -v osslw="$openssl_wall_kbs" -v sha="$sha256_kbs" 'BEGIN {
  mb = mib * 1.048576; ossl_mbs = ossl / 1000; osslw_mbs = osslw / 1000;
  printf "input:            %d MiB\n", mib;
  printf "valise seal:      %.2f s wall (%.0f MB/s), %.2f s CPU (%.0f MB/s), peak RSS %.1f MiB\n", ss, mb / ss, sc, mb / sc, sk / 1024;
  printf "valise open:      %.2f s wall (%.0f MB/s), %.2f s CPU (%.0f MB/s), peak RSS %.1f MiB\n", os, mb / os, oc, mb / oc, ok / 1024;
  printf "openssl aes-256-gcm, 16 KiB blocks: %.0f MB/s per CPU second, %.0f MB/s wall (-elapsed)\n", ossl_mbs, osslw_mbs;
  printf "openssl sha256, 16 KiB blocks:      %.0f MB/s per CPU second\n", sha / 1000;
  printf "seal / openssl:   %.2f per CPU second, %.2f wall\n", (mb / sc) / ossl_mbs, (mb / ss) / osslw_mbs;
  printf "open / openssl:   %.2f per CPU second, %.2f wall\n", (mb / oc) / ossl_mbs, (mb / os) / osslw_mbs;
}'
