"""statsmodels ExponentialSmoothing on M4 hourly, scored like hxb's m4_eval, side by side.

Usage: python m4_statsmodels.py M4_DIR RUST_TSV [--limit N]

Fits ExponentialSmoothing(trend="add", damped_trend=True, seasonal="add", seasonal_periods=24)
to every series (default options), forecasts 48 steps, times fit + forecast on one core, computes
sMAPE, MASE and OWA (relative to Naive2 computed here on the same series with the M4 definition),
and prints the table next to the Rust evaluator's TSV output (RUST_TSV) with the speed ratio.
"""

import csv
import math
import sys
import time
import warnings

import numpy as np
from statsmodels.tsa.holtwinters import ExponentialSmoothing

H, M = 48, 24


def load(path):
    with open(path, newline="") as f:
        rows = csv.reader(f)
        next(rows)
        return {r[0]: np.array([float(v) for v in r[1:] if v != ""]) for r in rows}


def acf(x, k):
    m = x.mean()
    d = x - m
    return float((d[k:] * d[:-k]).sum() / (d * d).sum())


def naive2(x):
    n = len(x)
    seasonal = False
    if n >= 3 * M:
        s = sum(acf(x, k) ** 2 for k in range(1, M))
        limit = 1.645 * math.sqrt((1 + 2 * s) / n)
        seasonal = abs(acf(x, M)) > limit
    if not seasonal:
        return np.repeat(x[-1], H)
    # Classical multiplicative decomposition (centred 2x24 moving average).
    w = np.r_[0.5, np.ones(M - 1), 0.5] / M
    trend = np.convolve(x, w, mode="valid")  # trend[i] is centred at t = i + M/2
    t_idx = np.arange(M // 2, n - M // 2)
    ratio = x[t_idx] / trend
    idx = np.array([ratio[(t_idx % M) == i].mean() for i in range(M)])
    idx /= idx.mean()
    last = x[-1] / idx[(n - 1) % M]
    return last * idx[(n + np.arange(H)) % M]


def smape(y, f):
    d = np.abs(y) + np.abs(f)
    return float(np.mean(np.where(d == 0, 0.0, 200 * np.abs(y - f) / np.where(d == 0, 1, d))))


def mase(x, y, f):
    scale = np.mean(np.abs(x[M:] - x[:-M]))
    return float(np.mean(np.abs(y - f)) / scale)


def main():
    m4_dir, rust_tsv = sys.argv[1], sys.argv[2]
    limit = int(sys.argv[sys.argv.index("--limit") + 1]) if "--limit" in sys.argv else None
    train, test = load(f"{m4_dir}/Hourly-train.csv"), load(f"{m4_dir}/Hourly-test.csv")
    ids = list(train)[:limit]
    warnings.simplefilter("ignore")

    scores = {"naive2": [], "statsmodels-ets": []}
    failures = 0
    start = time.perf_counter()
    forecasts = {}
    for sid in ids:
        x = train[sid]
        try:
            fit = ExponentialSmoothing(
                x, trend="add", damped_trend=True, seasonal="add", seasonal_periods=M
            ).fit()
            f = np.asarray(fit.forecast(H))
            if not np.all(np.isfinite(f)):
                raise ValueError("non-finite forecast")
        except Exception:  # counted and replaced by the seasonal naive forecast
            failures += 1
            f = np.resize(x[-M:], H)
        forecasts[sid] = f
    ets_seconds = time.perf_counter() - start

    start = time.perf_counter()
    n2 = {sid: naive2(train[sid]) for sid in ids}
    n2_seconds = time.perf_counter() - start
    for sid in ids:
        x, y = train[sid], test[sid]
        scores["naive2"].append((smape(y, n2[sid]), mase(x, y, n2[sid])))
        scores["statsmodels-ets"].append((smape(y, forecasts[sid]), mase(x, y, forecasts[sid])))
    ref_s = np.mean([s for s, _ in scores["naive2"]])
    ref_m = np.mean([m for _, m in scores["naive2"]])

    print(f"M4 hourly, {len(ids)} series, h = {H}, m = {M}; statsmodels fit failures: {failures}")
    print(f"{'side':<8} {'method':<16} {'sMAPE':>8} {'MASE':>8} {'OWA':>8} {'time (s)':>10}")
    py_rows = []
    for name, secs in (("naive2", n2_seconds), ("statsmodels-ets", ets_seconds)):
        s = np.mean([a for a, _ in scores[name]])
        m = np.mean([b for _, b in scores[name]])
        owa = 0.5 * (s / ref_s + m / ref_m)
        py_rows.append((name, s, m, owa, secs))
        print(f"{'python':<8} {name:<16} {s:>8.3f} {m:>8.3f} {owa:>8.3f} {secs:>10.3f}")

    rust = {}
    with open(rust_tsv) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 5 and parts[0] != "method":
                rust[parts[0]] = tuple(float(v) for v in parts[1:])
    for name, (s, m, owa, secs) in rust.items():
        print(f"{'rust':<8} {name:<16} {s:>8.3f} {m:>8.3f} {owa:>8.3f} {secs:>10.4f}")
    if "ensemble" in rust:
        s, m, owa, secs = rust["ensemble"]
        print(
            f"\nhxb ensemble vs statsmodels ExponentialSmoothing: OWA {owa:.3f} vs "
            f"{py_rows[1][3]:.3f}; fit+forecast {secs:.4f} s vs {ets_seconds:.2f} s "
            f"= {ets_seconds / secs:.0f}x faster"
        )
    if "naive2" in rust:
        print(
            f"Naive2 cross-check (rust vs python): sMAPE {rust['naive2'][0]:.3f} vs "
            f"{py_rows[0][1]:.3f}, MASE {rust['naive2'][1]:.3f} vs {py_rows[0][2]:.3f}"
        )


if __name__ == "__main__":
    main()
