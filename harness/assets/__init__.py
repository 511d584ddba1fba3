"""The files the package ships, each made by a harness command recorded beside it (train_config.json, *.json)."""

from pathlib import Path

ASSETS = Path(__file__).resolve().parent
DIGITSNET_WEIGHTS = ASSETS / "digitsnet.safetensors"  # `harness train-digitsnet`
DASH_DIGITS = ASSETS / "dash-digits"  # `harness train-dash` (workflow rule remake_dash)
DASH_DIGITS_COND = ASSETS / "dash-digits-cond"  # `harness train-dash --num-classes 10` (remake_dash)

# The shipped Dash sources: name -> folder and the train-dash options, beyond its defaults and the
# workflow's `dash_digits` settings, that remake it (the remake rule puts them last, so they win).
SHIPPED_DASH: dict[str, tuple[Path, str]] = {
    "digits": (DASH_DIGITS, ""),
    # class-conditional: digit labels 0-9, null class 10 for classifier-free guidance
    "digits-cond": (DASH_DIGITS_COND, "--steps 1000 --num-classes 10 --label-dropout 0.1"),
}
