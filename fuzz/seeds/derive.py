#!/usr/bin/env python3
"""Derive the seeds that are not fixtures as they are, from the shipped fixtures.

Run from the repository's root: python3 fuzz/seeds/derive.py [JOURNAL_DIR]. It rewrites
fuzz/seeds/{ssdn_reply,national_register,wsdl_import}/derived-*; the hand-written seeds
beside them are kept. With JOURNAL_DIR (the journal the quickstart leaves with
`cargo run --example quickstart -- --workdir DIR`, in DIR/journal), it rewrites
fuzz/seeds/journal_segment/derived-* too: the segment, cut at a record boundary and
inside a record, split in two segments, and some record bodies alone. The other targets are seeded from the fixtures as they are, by
fuzz/run.sh (see there). Writes only small files (a few dozen per target).
"""
import glob
import html
import os
import re
import struct
import sys
import tomllib

ROOT = os.getcwd()
SEEDS = os.path.join(ROOT, "fuzz", "seeds")


def clear(target):
    os.makedirs(os.path.join(SEEDS, target), exist_ok=True)
    for f in glob.glob(os.path.join(SEEDS, target, "derived-*")):
        os.remove(f)


def write(target, name, data):
    with open(os.path.join(SEEDS, target, "derived-" + name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def replies():
    """(name, reply body) of every fixture reply: the XML files and the exchanges."""
    for path in sorted(glob.glob("fixtures/replies/**/*.xml", recursive=True)):
        yield os.path.relpath(path, "fixtures/replies").replace("/", "-"), open(path, encoding="utf-8").read()
    for path in sorted(glob.glob("fixtures/exchanges/*/*.toml")):
        with open(path, "rb") as f:
            body = tomllib.load(f).get("reply", {}).get("body")
        if body:
            yield os.path.relpath(path, "fixtures/exchanges").replace("/", "-"), body


def ssdn_documents():
    """The SSDN document inside every connector reply (CDATA or escaped text)."""
    clear("ssdn_reply")
    seen = set()
    for name, body in replies():
        m = re.search(r"<!\[CDATA\[(.*?)\]\]>", body, re.S)
        if m:
            document = m.group(1)
        else:
            m = re.search(r"<(?:\w+:)?xmlString[^>]*>(.*?)</(?:\w+:)?xmlString>", body, re.S)
            if not m:
                continue
            document = html.unescape(m.group(1))
        document = document.strip()
        if document and document not in seen:
            seen.add(document)
            write("ssdn_reply", name.rsplit(".", 1)[0] + ".xml", document)


def register_contents():
    """The content of every RetrieveTIGroups reply's rrn_it_implicit, with the Register's
    namespace under the prefix ns3 (as fuzz/src/lib.rs's NR_PREFIX binds it)."""
    clear("national_register")
    seen = set()
    for name, body in replies():
        m = re.search(r"<rrn_it_implicit[^>]*>(.*?)</rrn_it_implicit>", body, re.S)
        if not m:
            continue
        p = re.search(r'xmlns:(\w+)="http://www.ibz.rrn.fgov.be/XSD/xm25/rn25Schema"', body)
        content = m.group(1)
        if p and p.group(1) != "ns3":
            content = re.sub(r"(</?)" + p.group(1) + ":", r"\1ns3:", content)
        if content not in seen:
            seen.add(content)
            write("national_register", name.rsplit(".", 1)[0] + ".xml", content)


def wsdl_bundles():
    """WSDL, schema and second WSDL joined by the separator the target splits on."""
    clear("wsdl_import")
    sep = "\n--8<--\n"
    fa = "tests/contracts/fictitious_allowances/"
    wsdl = {env: open(fa + f"FictitiousAllowancesV1-{env}.wsdl").read() for env in ("test", "acpt", "prod")}
    types = open(fa + "FictitiousAllowancesTypesV1.xsd").read()
    wsdl = {env: w.replace("FictitiousAllowancesTypesV1.xsd", "types.xsd") for env, w in wsdl.items()}
    attestations = open("tests/contracts/fictitious_attestations/FictitiousAttestations.xsd").read()
    write("wsdl_import", "allowances-test-acpt.txt", wsdl["test"] + sep + types + sep + wsdl["acpt"])
    write("wsdl_import", "allowances-prod.txt", wsdl["prod"] + sep + types)
    write("wsdl_import", "allowances-test-no-schema.txt", wsdl["test"])
    write("wsdl_import", "allowances-test-attestations-schema.txt", wsdl["test"] + sep + attestations)
    for path in sorted(glob.glob("wsdl/*.wsdl")):
        write("wsdl_import", "builtin-" + os.path.basename(path) + ".txt", open(path).read())


def journal_seeds(journal_dir):
    """Seeds for journal_segment from a journal's first segment."""
    clear("journal_segment")
    path = sorted(glob.glob(os.path.join(journal_dir, "seg-*.bcj")))[0]
    seg = open(path, "rb").read()
    header, frames, at = seg[:80], [], 80
    while at + 64 <= len(seg):
        (n,) = struct.unpack_from("<I", seg, at)
        frames.append(seg[at:at + 64 + n])
        at += 64 + n
    write("journal_segment", "segment.bcj", seg)
    write("journal_segment", "segment-first-3.bcj", header + b"".join(frames[:3]))
    torn = header + b"".join(frames[:4])
    write("journal_segment", "segment-torn.bcj", torn + frames[4][: len(frames[4]) // 2])
    # A second segment from the middle: its header announces its first sequence and the
    # chain hash it follows (the hash stored in the frame before it).
    mid = len(frames) // 2
    (first,) = struct.unpack_from("<Q", frames[mid], 8)
    second = bytearray(header)
    second[12:20] = struct.pack("<Q", first)
    second[28:60] = frames[mid - 1][24:56]
    second[76:80] = b"\0\0\0\0"  # the checksum is the repaired copy's to fix
    write("journal_segment", "two-segments.bcj", header + b"".join(frames[:mid]) + bytes(second) + b"".join(frames[mid:]))
    seen = set()
    for frame in frames:
        body = frame[60:-4]
        kind = re.search(rb'"type":"(\w+)"', body)
        kind = kind.group(1).decode() if kind else "unknown"
        if kind not in seen:
            seen.add(kind)
            write("journal_segment", f"body-{kind}.bin", body)


ssdn_documents()
register_contents()
wsdl_bundles()
if len(sys.argv) > 1:
    journal_seeds(sys.argv[1])
