"""What an experiment costs to sample: images, Dash and Dot steps, and hours at a measured step time.

``workload`` counts from the plan alone (every sampled point, its schedule, samples and repeats);
``table`` prices it with the Dash and Dot seconds per step of `harness latency` rows (a latency CSV
measured on the GPU of interest, batch of ``batch_size`` images), so no figure is typed in.
"""

from __future__ import annotations

import pandas as pd

from harness.experiments.model import Experiment


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
