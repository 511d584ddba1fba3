"""The files the package ships, each made by a harness command recorded beside it (train_config.json, *.json)."""

from pathlib import Path

ASSETS = Path(__file__).resolve().parent
DIGITSNET_WEIGHTS = ASSETS / "digitsnet.safetensors"  # `harness train-digitsnet`
DASH_DIGITS = ASSETS / "dash-digits"  # `harness train-dash` (workflow rule remake_dash_digits)
