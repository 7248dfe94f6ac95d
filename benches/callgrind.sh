#!/usr/bin/env bash
# Instructions per call of the whole bcss call and of the raw reqwest post, counted by
# valgrind's callgrind (instruction counts do not drift with the machine's load).
#
#   benches/callgrind.sh            (builds the e2e bench first)
#   E2E_BIN=path/to/e2e benches/callgrind.sh
#
# Each side runs twice under callgrind, `e2e --callgrind-once --side SIDE --calls N`, with
# N = FEW and N = MANY (BCSS_CALLGRIND_FEW, default 50; BCSS_CALLGRIND_MANY, default 450),
# at concurrency 1; the mock runs in a child process, which valgrind does not follow.
# The difference of the two totals divided by MANY - FEW is the cost of one call, without
# the start-up (runtime, TLS roots, journal open and close, first connection). Prints:
#   callgrind side=SIDE calls=N instructions_per_call=I
# valgrind hides the CPU's SHA extensions, so under it the sha2 crate hashes in software
# (about 45 instructions a byte instead of a few): the instructions of its block function
# are printed apart (sha256_software_per_call) for the reader to subtract.
# The profiles stay in TARGET/callgrind/e2e-SIDE-MANY.out, for callgrind_annotate.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
few=${BCSS_CALLGRIND_FEW:-50}
many=${BCSS_CALLGRIND_MANY:-450}

bin=${E2E_BIN:-}
if [ -z "$bin" ]; then
    bin=$(cd "$root" && cargo bench --bench e2e --no-run 2>&1 |
        sed -n 's/.*Executable .*(\(.*\)).*/\1/p' | tail -n 1)
    case "$bin" in /*) ;; *) bin=$root/$bin ;; esac
fi
if [ ! -x "$bin" ]; then
    echo "callgrind.sh: the e2e bench binary was not found ($bin)" >&2
    exit 1
fi

out=$target/callgrind
mkdir -p "$out"
total() {
    # The `totals:` (or `summary:`) line of a callgrind profile: instructions executed.
    awk '/^(totals|summary):/ && !done { print $2; done=1 }' "$1"
}
sha256() {
    # The self cost of sha2's software block function, 0 when it did not run.
    callgrind_annotate --threshold=100 "$1" 2>/dev/null |
        awk '/sha2::sha256::compress256/ && !found { gsub(",", "", $1); print $1; found=1 }
             END { if (!found) print 0 }'
}
for side in raw bcss; do
    declare -A count=()
    declare -A sha=()
    for n in "$few" "$many"; do
        profile=$out/e2e-$side-$n.out
        echo "callgrind.sh: $side, $n calls" >&2
        valgrind --tool=callgrind --callgrind-out-file="$profile" \
            "$bin" --callgrind-once --side "$side" --calls "$n" >"$out/e2e-$side-$n.log" 2>&1 || {
            echo "callgrind.sh: valgrind failed, see $out/e2e-$side-$n.log" >&2
            exit 1
        }
        count[$n]=$(total "$profile" | tr -d ,)
        sha[$n]=$(sha256 "$profile")
    done
    calls=$((many - few))
    echo "callgrind side=$side calls=$calls instructions_per_call=$(((count[$many] - count[$few]) / calls)) sha256_software_per_call=$(((sha[$many] - sha[$few]) / calls))"
    unset count sha
done
