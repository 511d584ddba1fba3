"""The report of one experiment: its PDF pages, the paper's figures and tables drawn from our rows, the page
layout, the trade-off page and the compute the run cost (`harness report`; the mathematics is harness.analysis)."""
