"""Binding benchmark, Python side (bindings/bench.sh): prints one JSON object.

Measures what the issue asks: the overhead of a cheap call (µs/call) and the throughput of
batch calls (100,000 quantities; a 100,000-point series as buffers and as lists), with the
same inputs as examples/bench_native.rs.
"""

import array
import asyncio
import json
import math
import statistics
import sys
import time

import hxb


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
    name_s = per_call(5, 200_000, lambda: hxb.validate_name("team-a"))
    parse_s = per_call(5, 200_000, lambda: hxb.Quantity("250m"))
    items = batch()
    total = None

    def run_batch():
        nonlocal total
        total = str(hxb.sum_quantities(items))

    batch_s = per_call(5, 10, run_batch)

    engine = hxb.Engine.embedded()

    async def gets():
        await engine.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}})
        times = []
        for _ in range(5):
            t = time.perf_counter()
            for _ in range(5_000):
                await engine.get("Namespace", "team-a")
            times.append((time.perf_counter() - t) / 5_000)
        return statistics.median(times)

    get_s = asyncio.run(gets())
    ts, vs = series()
    # The timed region is the call alone (arguments in, scores out); the checksum comes after.
    scores = None

    def run_detect(ts, vs):
        def run():
            nonlocal scores
            scores = engine.detect_anomalies(ts, vs)
        return run

    detect_list_s = per_call(5, 3, run_detect(ts, vs))
    list_sum = math.fsum(scores)
    detect_s = per_call(5, 3, run_detect(array.array("q", ts), array.array("d", vs)))
    score_sum = math.fsum(scores)
    assert score_sum == list_sum and isinstance(scores, array.array)
    engine.close()
    print(json.dumps({
        "language": "python",
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
        "detect_input": "array('q') + array('d')",
        "detect_list_ms": detect_list_s * 1e3,
        "detect_score_sum": score_sum,
    }))


if __name__ == "__main__":
    main()
