#!/usr/bin/env bash
# Refresh an example from a finished run in the repository root: the embedded default into this folder,
# any other experiment into a subfolder of its name:
#   snakemake -j2 && bash docs/example/refresh.sh
#   snakemake -j2 reports/speedup_digits_cond.pdf && bash docs/example/refresh.sh digits_cond
# Copies the results CSVs and the latency rows (<dot>_latency_*.csv where a run times several Dots), and
# renders the report's pages as PNG (pdftoppm, Debian's poppler-utils). Then update the README.md there
# with the run's command, commit, machine and time.
set -euo pipefail
exp="${1:-digits}"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$here"
[ "$exp" = digits ] || out="$here/$exp"
mkdir -p "$out"
rm -f "$out"/*.csv "$out"/page-*.png
cp "$root/results/$exp.csv" "$root/results/${exp}_speedup.csv" "$root/results/${exp}_speedup_summary.csv" "$out"/
timings=("$root"/work/"$exp"/latency/*/)
for dir in "${timings[@]}"; do  # one timing: its file as named; several (one per Dot): each named after its Dot
  for rows in "$dir"latency_*.csv; do
    if [ "${#timings[@]}" = 1 ]; then cp "$rows" "$out"/; else cp "$rows" "$out/$(basename "$dir")_$(basename "$rows")"; fi
  done
done
pdftoppm -png -r 60 "$root/reports/speedup_$exp.pdf" "$out/page"
ls "$out"
