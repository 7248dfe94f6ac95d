#!/usr/bin/env bash
# Run one fuzz target for a while, or list them.
#
#   fuzz/run.sh TARGET [SECONDS] [libFuzzer flags...]   (default: 600 seconds)
#   fuzz/run.sh --list
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). The corpus
# grows in fuzz/corpus/TARGET (not committed); it is seeded from fuzz/seeds/TARGET and from
# the shipped fixtures, read in place. A crash, a timeout (an input taking more than 10 s:
# a hang or worse than linear time) or an allocation over 512 MB stops the run, saves the
# input in fuzz/artifacts/TARGET/ and exits non-zero: make it a regression test in tests/.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS=(soap_envelope ssdn_reply v3_reply national_register manifest config fixture wsdl_import
  journal_segment)

if [[ "${1:-}" == "--list" ]]; then
  printf '%s\n' "${TARGETS[@]}"
  exit 0
fi
target=${1:?usage: fuzz/run.sh TARGET [SECONDS] [libFuzzer flags...] (fuzz/run.sh --list)}
seconds=${2:-600}
shift $(( $# < 2 ? $# : 2 ))

# The shipped fixtures each target starts from (read, never written), and its dictionary.
case "$target" in
  soap_envelope)     fixtures=(fixtures/replies); dict=xml ;;
  ssdn_reply)        fixtures=(); dict=xml ;;
  v3_reply)          fixtures=(fixtures/replies/v3); dict=xml ;;
  national_register) fixtures=(); dict=xml ;;
  manifest)          fixtures=(fixtures/manifests); dict=toml ;;
  config)            fixtures=(); dict=toml ;;
  fixture)           fixtures=(fixtures/exchanges); dict=toml ;;
  wsdl_import)       fixtures=(); dict=xml ;;
  journal_segment)   fixtures=(); dict=journal ;;
  *) echo "unknown fuzz target $target; one of: ${TARGETS[*]}" >&2; exit 2 ;;
esac

mkdir -p "fuzz/corpus/$target"
corpora=("fuzz/corpus/$target")
[[ -d "fuzz/seeds/$target" ]] && corpora+=("fuzz/seeds/$target")
corpora+=("${fixtures[@]}")
# -a: debug assertions, so that an arithmetic overflow is a crash too.
status=0
cargo +nightly fuzz run -a "$target" "${corpora[@]}" -- \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 \
  -max_len=65536 -dict="fuzz/dict/$dict.dict" -print_final_stats=1 "$@" || status=$?
# The folders wsdl_import and journal_segment write to, one per process, once it is gone.
for dir in /dev/shm/bcss-fuzz-* "${TMPDIR:-/tmp}"/bcss-fuzz-*; do
  [[ -d "$dir" ]] && ! kill -0 "${dir##*-}" 2>/dev/null && rm -rf "$dir"
done
exit "$status"
