"""Speedup math (Sec. 3.1), latency-metric curves, and the paper's figures and tables."""
