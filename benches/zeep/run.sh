#!/usr/bin/env bash
# zeep, the Python SOAP client, calling the mock BCSS with the same RetrieveTIGroups request
# as benches/e2e.rs, built from BCSS's official WSDL; prints one line per thread count:
#   zeep threads=N calls=C seconds=S calls_per_s=R p50_ms=P p99_ms=Q
#
#   benches/zeep/run.sh URL [SECONDS] [THREADS]
#
# URL is the mock's RetrieveTIGroups endpoint (the e2e bench passes it); SECONDS per
# thread count (default 3); THREADS a comma-separated list (default 1,8,16,64).
# zeep is installed with pip into a virtual environment under the target directory
# (BCSS_ZEEP_VENV overrides). The WSDL is read from ../shared/contracts
# (BCSS_SHARED_CONTRACTS overrides); without it, or without python3, this prints a
# SKIP line and exits 0.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
url=${1:?usage: $0 URL [SECONDS] [THREADS]}
seconds=${2:-3}
threads=${3:-1,8,16,64}

contracts=${BCSS_SHARED_CONTRACTS:-$root/../shared/contracts}
wsdl=$contracts/kszbcss/be/fgov/kszbcss/intf/RetrieveTIGroupsService/RetrieveTIGroupsV2.wsdl
if [ ! -f "$wsdl" ]; then
    echo "SKIP: zeep: the official WSDL is not at $wsdl (set BCSS_SHARED_CONTRACTS to the shared contracts folder)"
    exit 0
fi
if ! command -v python3 >/dev/null; then
    echo "SKIP: zeep: python3 is not installed"
    exit 0
fi

venv=${BCSS_ZEEP_VENV:-${CARGO_TARGET_DIR:-$root/target}/zeep-venv}
if [ ! -x "$venv/bin/python" ]; then
    echo "zeep: creating a virtual environment in $venv" >&2
    python3 -m venv "$venv"
fi
# A no-op (and no network) once the pinned version is installed.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2

exec "$venv/bin/python" "$here/bench.py" --url "$url" --wsdl "$wsdl" \
    --seconds "$seconds" --threads "$threads"
