"""Per-step latency of Dash and Dot on one device and their ratio N (paper, Sec. 3.1 and Table 5)."""

DTYPES = ("float32", "float16", "bfloat16")  # torch dtype names
GUIDED_DOT_COSTS = ("one_branch", "two_branches")  # config key latency.guided_dot_cost
