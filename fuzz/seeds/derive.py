#!/usr/bin/env python3
"""Derive the seeds that are not fixtures as they are, from the shipped fixtures.

Run from the repository's root: python3 fuzz/seeds/derive.py. It rewrites
fuzz/seeds/{ssdn_reply,national_register,wsdl_import}/derived-*; the hand-written seeds
beside them are kept. The other targets are seeded from the fixtures as they are, by
fuzz/run.sh (see there). Writes only small files (a few dozen per target).
"""
import glob
import html
import os
import re
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


ssdn_documents()
register_contents()
wsdl_bundles()
