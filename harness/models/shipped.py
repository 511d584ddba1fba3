"""The Dash models shipped in `harness/assets/` (made by `harness train-dash`, each folder's
train_config.json records the run): source name -> folder and the train-dash options, beyond its
defaults and the workflow's `dash_digits` settings, that remake it (the remake rule puts them last,
so they win). Torch-free, so the workflow's remake rule can read it."""

from __future__ import annotations

from pathlib import Path

ASSETS = Path(__file__).resolve().parents[1] / "assets"
SHIPPED_DASH: dict[str, tuple[Path, str]] = {
    "digits": (ASSETS / "dash-digits", ""),
    # class-conditional: digit labels 0-9, null class 10 for classifier-free guidance
    "digits-cond": (ASSETS / "dash-digits-cond", "--steps 1000 --num-classes 10 --label-dropout 0.1"),
}
