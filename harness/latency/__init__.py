"""Per-step latency of Dash and Dot on one device and their ratio N (paper, Sec. 3.1 and Table 5)."""
