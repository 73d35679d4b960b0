#!/usr/bin/env python3
"""Turns criterion's results for `crypto/benches/crypto.rs` into the tables of docs/BENCHMARKS.md.

Usage: python3 crypto/benches/summarize.py <CARGO_TARGET_DIR>/criterion

For every `<group>/<operation>`: the median of each primitive part, their sum, the composite's
median and the ratio composite / sum. `pqclean` is the PQClean ML part (reference, not summed);
`pqclean+rest` replaces the RustCrypto ML part by it; `diag_*` parts are listed separately.

Operations in PQCLEAN_BACKED run their ML part on PQClean in `liaison-crypto` itself (composite
verification since issue 9, composite signing since its scenario 4): there `pqclean` is summed as a primitive and the RustCrypto `mldsa`
part is shown as the reference in the "RustCrypto / PQClean ML part" column instead.
"""

import json
import sys
from collections import defaultdict
from pathlib import Path

ML_PARTS = {"mlkem", "mldsa"}
PQCLEAN_BACKED = {"sign", "verify"}
ORDER = ["kem_keygen", "kem_encaps", "kem_decaps", "sig_keygen", "sign", "verify",
         "verify_key_parse", "verify_with_key_parse", "identity_id"] + [
    f"{op}_{size}" for size in ("1KiB", "1MiB") for op in ("seal", "open", "xseal", "xopen")
]


def fmt(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns:.0f} ns"


def load(root):
    results = defaultdict(dict)
    for bench in Path(root).glob("**/new/benchmark.json"):
        meta = json.loads(bench.read_text())
        est = json.loads((bench.parent / "estimates.json").read_text())
        group = meta["group_id"]
        op, _, part = meta["function_id"].partition("/")
        results[(group, op)][part] = est["median"]["point_estimate"]
    return results


def main():
    results = load(sys.argv[1])
    groups = sorted({g for g, _ in results}, key=lambda g: (g == "AEAD", g))
    for group in groups:
        print(f"\n### {group}\n")
        print("| operation | primitives (median) | sum | composite | ratio | other ML back-end* | other + rest | diagnostics |")
        print("|---|---|---:|---:|---:|---:|---:|---|")
        ops = sorted((op for g, op in results if g == group), key=lambda op: (ORDER + [op]).index(op))
        for op in ops:
            parts = results[(group, op)]
            # The ML part the composite does not call is the reference column.
            reference = "mldsa" if op in PQCLEAN_BACKED else "pqclean"
            prims = {p: v for p, v in parts.items() if p not in ("composite", reference) and not p.startswith("diag_")}
            total = sum(prims.values())
            comp = parts.get("composite")
            ratio = f"{comp / total:.2f}x" if comp and total else "-"
            pq = parts.get(reference)
            ml = sum(v for p, v in prims.items() if p in ML_PARTS | {"pqclean"})
            pq_rest = fmt(total - ml + pq) if pq is not None else "-"
            diags = ", ".join(f"{p[5:]} {fmt(v)}" for p, v in parts.items() if p.startswith("diag_"))
            prim_text = ", ".join(f"{p} {fmt(v)}" for p, v in prims.items())
            print(f"| {op} | {prim_text or '-'} | {fmt(total) if prims else '-'} | {fmt(comp) if comp else '-'} | {ratio} "
                  f"| {fmt(pq) if pq is not None else '-'} | {pq_rest} | {diags or '-'} |")
        if group != "AEAD":
            print("\n\\* PQClean's ML part, except for " + ", ".join(sorted(PQCLEAN_BACKED))
                  + " (PQClean is the primitive there): RustCrypto's.")


if __name__ == "__main__":
    main()
