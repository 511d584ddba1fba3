"""Speedup mathematics (Sec. 3.1), latency-metric curves, the comparison of Morse with its baseline, the ratio
tuning, the reference Dots and the selection of rows; the report that draws them is harness.report."""
