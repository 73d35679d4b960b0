#!/usr/bin/env python3
"""Scenario 6 summary: reads criterion's medians for `proto/benches/envelope.rs` and prints
each composite against the sum of its primitives (target: at most 1.2x).

Usage: python3 interop-tests/bench/envelope_ratio.py <CARGO_TARGET_DIR>/criterion
"""
import json
import os
import sys

GROUP = "envelope_1KiB"

# composite -> (parts as the issue counts them, extra parts the composite also has to do)
ROWS = [
    ("seal_unchecked", ["seal/kem_encaps", "seal/sign", "seal/aead_payload", "seal/aead_wrap"], []),
    ("seal", ["seal/kem_encaps", "seal/sign", "seal/aead_payload", "seal/aead_wrap"], ["seal/verify_prekey"]),
    ("open", ["open/kem_decaps", "open/verify", "open/aead_payload", "open/aead_wrap"],
     ["open/validate_certificate", "open/validate_certificate"]),
]


def median_ns(root, bench):
    group, _, name = bench.partition("/")
    path = os.path.join(root, GROUP, group, name, "new", "estimates.json")
    if not os.path.exists(path):  # criterion flattens "a/b" ids into "a_b" directories
        path = os.path.join(root, GROUP, bench.replace("/", "_"), "new", "estimates.json")
    with open(path) as f:
        return json.load(f)["median"]["point_estimate"]


def fmt(ns):
    return f"{ns / 1000:.1f} µs" if ns < 1e6 else f"{ns / 1e6:.2f} ms"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = sys.argv[1]
    print("| operation | composite | primitives (issue's sum) | ratio | + checks it must also do | ratio incl. checks |")
    print("|---|---:|---:|---:|---:|---:|")
    for op, parts, extra in ROWS:
        comp = median_ns(root, f"{op}/composite")
        base = sum(median_ns(root, p) for p in parts)
        more = base + sum(median_ns(root, p) for p in extra)
        extra_txt = ", ".join(p.split("/")[1] for p in extra) or "-"
        print(f"| {op} | {fmt(comp)} | {fmt(base)} | {comp / base:.2f}x | {extra_txt}: {fmt(more)} | {comp / more:.2f}x |")
    print(f"| decode (diagnostic) | {fmt(median_ns(root, 'diag_decode'))} | | | | |")


if __name__ == "__main__":
    main()
