"""Binding benchmark of the uniffi layer (Swift's FFI) through uniffi's generated Python
module (ctypes): prints one JSON object. Swift itself calls the same C functions directly,
so this bounds the uniffi layer from above; it is not a Swift figure.

    HXB_UNIFFI_DIR=<dir with hxb_uniffi.py and the library> python bench_uniffi.py
"""

import asyncio
import json
import math
import os
import statistics
import sys
import time

sys.path.insert(0, os.environ["HXB_UNIFFI_DIR"])

import hxb_uniffi  # noqa: E402


def batch():
    out = []
    for i in range(100_000):
        n = (i * 7919) % 1000
        out.append([f"{n}m", f"{n}Mi", f"{n}", f"{n}.5Gi"][i % 4])
    return out


def series():
    ts = [i * 300_000 for i in range(100_000)]
    vs = [math.sin(i / 20) + (8.0 if i % 9973 == 0 else 0.0) for i in range(100_000)]
    return ts, vs


def per_call(runs, iters, f):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        for _ in range(iters):
            f()
        times.append((time.perf_counter() - t) / iters)
    return statistics.median(times)


def main():
    name_s = per_call(5, 50_000, lambda: hxb_uniffi.validate_name("team-a"))
    parse_s = per_call(5, 50_000, lambda: hxb_uniffi.Quantity("250m"))
    items = batch()
    total = None

    def run_batch():
        nonlocal total
        total = str(hxb_uniffi.sum_quantities(items))

    batch_s = per_call(5, 5, run_batch)
    engine = hxb_uniffi.Engine.embedded()

    async def gets():
        ns = '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}'
        await engine.apply(ns)
        times = []
        for _ in range(5):
            t = time.perf_counter()
            for _ in range(2_000):
                await engine.get("Namespace", "team-a")
            times.append((time.perf_counter() - t) / 2_000)
        return statistics.median(times)

    get_s = asyncio.run(gets())
    ts, vs = series()
    scores = None

    def run_detect():
        nonlocal scores
        scores = engine.detect_anomalies(ts, vs)

    detect_s = per_call(5, 3, run_detect)
    score_sum = math.fsum(scores)
    engine.close()
    print(json.dumps({
        "language": "uniffi (via Python ctypes)",
        "runtime": f"CPython {sys.version.split()[0]}",
        "validate_name_us": name_s * 1e6,
        "parse_quantity_us": parse_s * 1e6,
        "engine_get_us": get_s * 1e6,
        "batch_items": len(items),
        "batch_ms": batch_s * 1e3,
        "batch_items_per_s": len(items) / batch_s,
        "batch_total": total,
        "detect_points": len(vs),
        "detect_ms": detect_s * 1e3,
        "detect_points_per_s": len(vs) / detect_s,
        "detect_score_sum": score_sum,
    }))


if __name__ == "__main__":
    main()
