"""Morse (Li, Fan, Yao, ICML 2025): Dash/Dot dual sampling, the weight-shared Dot model, its training."""
