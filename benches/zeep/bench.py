"""zeep calling the mock BCSS's RetrieveTIGroups endpoint, as benches/e2e.rs calls it.

The request is built by zeep from BCSS's official WSDL (and the XSDs it imports), with the
same content as bcss's: Marc FICTIF (68070100188), French, no history, legalContext
PCSA:SOCIAL_INQUIRY, for CBE 0212344876, a fresh ticket and timestamp per call. zeep
parses the reply into its objects (its own decoding); nothing is journaled.

One zeep Client (the WSDL is parsed once) is shared by every thread, over one
requests.Session whose connection pool holds as many connections as there are threads,
as a zeep user serving many threads would set it up. For each thread count, the threads
call in a loop for SECONDS after one warm-up call each; one line is printed per count:

    zeep threads=N calls=C seconds=S calls_per_s=R p50_ms=P p99_ms=Q
"""

import argparse
import datetime
import sys
import threading
import time
import uuid

import requests
from requests.adapters import HTTPAdapter
from zeep import Client
from zeep.transports import Transport

BINDING = "{http://kszbcss.fgov.be/intf/RetrieveTIGroupsService/v2}RetrieveTIGroupsServiceHTTPBinding"
SSIN = "68070100188"
CBE = "0212344876"
LEGAL_CONTEXT = "PCSA:SOCIAL_INQUIRY"


def service(wsdl, url, pool):
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool)
    session.mount("http://", adapter)
    client = Client(wsdl, transport=Transport(session=session))
    return client.create_service(BINDING, url)


def call(svc):
    reply = svc.retrieveTI(
        informationCustomer={
            "ticket": str(uuid.uuid4()),
            "timestampSent": datetime.datetime.now(datetime.timezone.utc),
            "customerIdentification": {"cbeNumber": CBE},
        },
        legalContext=LEGAL_CONTEXT,
        searchInformation={"ssin": SSIN, "language": "fr", "history": False},
    )
    if reply.status.code != "MSG00000":
        raise RuntimeError(f"unexpected status {reply.status.code}")
    return reply


def percentile(sorted_values, p):
    if not sorted_values:
        return 0.0
    i = min(len(sorted_values) - 1, int(p * len(sorted_values)))
    return sorted_values[i]


def run(svc, threads, seconds):
    # Check the reply once, in full, before timing.
    reply = call(svc)
    names = reply.rrn_it_implicit.Names
    if names is None:
        raise RuntimeError("zeep decoded no names from the reply")
    latencies = []
    lock = threading.Lock()
    start = [0.0]
    # The last thread to arrive (after every warm-up call) starts the clock.
    start_barrier = threading.Barrier(
        threads + 1, action=lambda: start.__setitem__(0, time.perf_counter())
    )
    errors = []

    def worker():
        mine = []
        try:
            call(svc)
            start_barrier.wait()
            deadline = start[0] + seconds
            while True:
                t0 = time.perf_counter()
                if t0 >= deadline:
                    break
                call(svc)
                mine.append(time.perf_counter() - t0)
        except Exception as e:  # noqa: BLE001 - reported below, the bench fails
            errors.append(e)
            try:
                start_barrier.abort()
            except threading.BrokenBarrierError:
                pass
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    try:
        start_barrier.wait()
    except threading.BrokenBarrierError:
        pass
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - start[0]
    if errors:
        raise errors[0]
    latencies.sort()
    return len(latencies), elapsed, latencies


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--wsdl", required=True)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--threads", default="1,8,16,64")
    args = parser.parse_args()
    counts = [int(t) for t in args.threads.split(",") if t.strip()]
    svc = service(args.wsdl, args.url, max(counts))
    import zeep

    print(f"zeep version={zeep.__version__} python={sys.version.split()[0]}", flush=True)
    for threads in counts:
        calls, elapsed, lat = run(svc, threads, args.seconds)
        print(
            f"zeep threads={threads} calls={calls} seconds={elapsed:.2f} "
            f"calls_per_s={calls / elapsed:.1f} "
            f"p50_ms={percentile(lat, 0.50) * 1e3:.2f} p99_ms={percentile(lat, 0.99) * 1e3:.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
