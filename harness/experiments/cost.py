"""What an experiment costs to sample: images, Dash and Dot steps, and hours at a measured step time.

``workload`` counts from the plan alone (every sampled point, its schedule, samples and repeats);
``table`` prices it with the Dash and Dot seconds per step of `harness latency` rows (a latency CSV
measured on the GPU of interest, batch of ``batch_size`` images), so no figure is typed in.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from harness.errors import HarnessError
from harness.experiments import Workflow
from harness.experiments.model import Experiment
from harness.latency import results
from harness.report.tables import render


def workload(experiment: Experiment) -> dict:
    """Images sampled, and image-steps of Dash and of Dot, over every sampled point and repeat."""
    images = dash = dot = 0
    for name in experiment.sampled_points:
        schedule = experiment.points[name].schedule
        n = experiment.samples.num * experiment.samples.repeats
        images, dash, dot = images + n, dash + n * schedule.dash_steps, dot + n * schedule.dot_steps
    return {"experiment": experiment.name, "points": len(experiment.sampled_points), "images": images,
            "dash_image_steps": dash, "dot_image_steps": dot}


def table(experiments: list[Experiment], latency: pd.DataFrame) -> pd.DataFrame:
    """One row per experiment: its workload, LSD-images (d + r/N per image) and hours on each
    device with a latency row of that experiment ("not measured" without one)."""
    rows = []
    for experiment in experiments:
        work = workload(experiment)
        measured = latency[latency["experiment"] == experiment.name] if len(latency) else latency
        if measured.empty:
            rows.append({**work, "device": "not measured", "lsd_images": None, "hours": None})
        for _, m in measured.iterrows():
            seconds = (work["dash_image_steps"] * m["dash_median_s"] + work["dot_image_steps"] * m["dot_median_s"])
            rows.append({**work, "device": m["device"],
                         "lsd_images": work["dash_image_steps"] + work["dot_image_steps"] / m["N"],
                         "hours": seconds / m["batch_size"] / 3600})
    return pd.DataFrame(rows).rename(columns={
        "images": "images sampled", "dash_image_steps": "Dash image-steps", "dot_image_steps": "Dot image-steps",
        "lsd_images": "LSD x images", "hours": "hours on device"})


def cost_table(config: Path, *, latency_dirs: list[Path] = (), experiments: list[str] = ()) -> str:
    """`harness compute-cost`: ``table`` as Markdown for the ``experiments`` of the workflow config ``config``
    (default: every one), priced with the latency rows in ``latency_dirs``."""
    config = Path(config)
    if not config.exists():
        raise HarnessError(f"--config {config} does not exist")
    flow = Workflow(yaml.safe_load(config.read_text()), config.parent.parent)
    latency = [results.load_all(d) for d in latency_dirs]
    frame = pd.concat(latency, ignore_index=True) if latency else pd.DataFrame()
    return render(table([flow.experiment(n) for n in experiments or flow.names], frame), "md")
