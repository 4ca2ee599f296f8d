#!/usr/bin/env bash
# Runs the platform tour, then opens its report.html in headless Chromium and checks that every
# chart rendered (the page marks <body data-rendered="ok/total"> as it lays the charts out).
# Then the same for the NAB report (hxb-ai example nab_report: one chart per data file, under
# 3 MB) when the NAB data is present (NAB_DIR, default ../shared/data/nab beside the repository).
# Installs Debian's chromium when missing (as root with apt); otherwise prints SKIP and passes.
#
#   bash scripts/report-check.sh            # dev profile (CI)
#   TOUR_PROFILE=release bash scripts/report-check.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
profile="${TOUR_PROFILE:-dev}"
limit_s="${TOUR_LIMIT_S:-60}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
report="$work/report.html"

passed=0
failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

flags=(--locked -p hxb-examples --example platform_tour)
[ "$profile" = release ] && flags+=(--release)
cargo build "${flags[@]}"
start=$(date +%s.%N)
cargo run -q "${flags[@]}" -- "$report" | tee "$work/tour.out"
end=$(date +%s.%N)
elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
echo "tour ($profile profile): ${elapsed} s wall"
if awk -v e="$elapsed" -v l="$limit_s" 'BEGIN { exit !(e < l) }'; then :; else
  fail "the tour took ${elapsed} s (limit ${limit_s} s)"
fi
[ -s "$report" ] || fail "no report written"

nab_dir="${NAB_DIR:-$root/../shared/data/nab}"
nab_report="$work/nab-report.html"
nab_files=0
if [ -f "$nab_dir/labels/combined_windows.json" ]; then
  nab_flags=(--locked -p hxb-ai --example nab_report)
  [ "$profile" = release ] && nab_flags+=(--release)
  cargo build "${nab_flags[@]}"
  cargo run -q "${nab_flags[@]}" -- "$nab_dir" "$nab_report" | tee "$work/nab.out"
  nab_files=$(grep -o '[0-9]* charts' "$work/nab.out" | grep -o '[0-9]*' || echo 0)
  bytes=$(wc -c <"$nab_report" 2>/dev/null || echo 0)
  [ "$bytes" -gt 0 ] || fail "no NAB report written"
  [ "$bytes" -lt 3000000 ] || fail "the NAB report is $bytes bytes (limit 3 MB)"
else
  echo "SKIP: no NAB data at $nab_dir; the NAB report is not checked"
fi

browser=""
for b in chromium chromium-browser; do
  command -v "$b" >/dev/null 2>&1 && browser="$b" && break
done
if [ -z "$browser" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the report check"
  if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
    browser=chromium
  fi
fi
if [ -z "$browser" ]; then
  echo "SKIP: headless chromium is not available and cannot be installed here; the report was written but not rendered"
  echo "report check: 0 passed, $failed failed, 1 skipped"
  exit "$(( failed > 0 ))"
fi

chrome=("$browser" --headless --no-sandbox --disable-gpu --disable-background-networking
  --disable-component-update --disable-sync --no-first-run --user-data-dir="$work/profile")
timeout 120 "${chrome[@]}" --dump-dom "file://$report" >"$work/dom.html" 2>"$work/chromium.log" || true
timeout 120 "${chrome[@]}" --window-size=1000,2900 --screenshot="$work/report.png" \
  "file://$report" >>"$work/chromium.log" 2>&1 || true
rendered=$(grep -o 'data-rendered="[0-9]*/[0-9]*"' "$work/dom.html" | head -1 | sed 's/.*="\(.*\)"/\1/')
ok="${rendered%/*}"
total="${rendered#*/}"
if [ -z "$rendered" ]; then
  fail "chromium did not run the page's check (see its log below)"
  tail -5 "$work/chromium.log"
elif [ "$total" -lt 8 ] || [ "$ok" != "$total" ]; then
  fail "charts rendered: $rendered (expected every one of at least 8)"
else
  echo "charts rendered: $rendered"
fi
if [ "$nab_files" -gt 0 ]; then
  timeout 120 "${chrome[@]}" --dump-dom "file://$nab_report" >"$work/nab-dom.html" 2>>"$work/chromium.log" || true
  rendered=$(grep -o 'data-rendered="[0-9]*/[0-9]*"' "$work/nab-dom.html" | head -1 | sed 's/.*="\(.*\)"/\1/')
  if [ -z "$rendered" ]; then
    fail "chromium did not run the NAB report's check"
  elif [ "$rendered" != "$nab_files/$nab_files" ]; then
    fail "NAB charts rendered: $rendered (expected $nab_files/$nab_files)"
  else
    echo "NAB charts rendered: $rendered"
  fi
fi
if [ -s "$work/report.png" ]; then
  echo "screenshot: $(wc -c <"$work/report.png") bytes"
  [ -n "${REPORT_SCREENSHOT:-}" ] && cp "$work/report.png" "$REPORT_SCREENSHOT"
else
  fail "no screenshot"
fi

if [ "$failed" = 0 ]; then passed=1; fi
echo "report check: $passed passed, $failed failed"
[ "$failed" = 0 ]
