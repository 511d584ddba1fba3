#!/usr/bin/env bash
# Refresh this example from a finished run of the embedded default in the repository root:
#   snakemake -j2 && bash docs/example/refresh.sh
# Copies the results CSVs and the latency row, and renders the report's pages as PNG (pdftoppm,
# Debian's poppler-utils). Then update README.md here with the run's command, commit, machine and time.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
rm -f "$here"/*.csv "$here"/page-*.png
cp "$root"/results/digits.csv "$root"/results/digits_speedup.csv "$root"/results/digits_speedup_summary.csv "$here"/
cp "$root"/work/digits/latency/*/latency_*.csv "$here"/
pdftoppm -png -r 60 "$root/reports/speedup_digits.pdf" "$here/page"
ls "$here"
