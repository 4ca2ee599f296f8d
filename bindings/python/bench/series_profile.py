"""Where the time of a 100,000-point `detect_anomalies` call goes, in one process.

Alternates four calls 30 times (two calls each, medians): buffers, lists, and both forms with
`values` one item short (both arguments converted, the call refused before any scoring), so
the boundary cost of each form shows against the same detector in the same process.

    PYTHONPATH=<dir with the hxb package> python3 bindings/python/bench/series_profile.py [wall|cpu]
"""

import array
import math
import statistics
import sys
import time

import hxb


def main():
    clock = time.thread_time if sys.argv[1:] == ["cpu"] else time.perf_counter
    ts = [i * 300_000 for i in range(100_000)]
    vs = [math.sin(i / 20) + (8.0 if i % 9973 == 0 else 0.0) for i in range(100_000)]
    tsa, vsa = array.array("q", ts), array.array("d", vs)
    short, short_a = vs[:-1], vsa[:-1]
    engine = hxb.Engine.embedded()
    kept = None

    def full(t, v):
        nonlocal kept
        kept = engine.detect_anomalies(t, v)

    def refused(t, v):
        try:
            engine.detect_anomalies(t, v)
        except hxb.InvalidInputError:
            pass

    calls = {
        "buffers": lambda: full(tsa, vsa),
        "lists": lambda: full(ts, vs),
        "conversion in, lists": lambda: refused(ts, short),
        "conversion in, buffers": lambda: refused(tsa, short_a),
    }
    times = {name: [] for name in calls}
    for _ in range(30):
        for name, call in calls.items():
            t = clock()
            call()
            call()
            times[name].append((clock() - t) / 2 * 1e3)
    ms = {name: statistics.median(v) for name, v in times.items()}
    for name, v in ms.items():
        print(f"{name}: {v:.2f} ms")
    print(f"lists vs buffers: {ms['buffers'] / ms['lists']:.1%}")


if __name__ == "__main__":
    main()
