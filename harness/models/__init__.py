"""Diffusion models: the Dash loader (`dash.py`), its packaged architecture configs and its trainer."""
