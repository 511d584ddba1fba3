"""Morse harness: Dash/Dot dual sampling (Li, Fan, Yao, ICML 2025) and its benchmark."""

__version__ = "0.1.0"
