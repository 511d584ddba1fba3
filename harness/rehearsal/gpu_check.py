"""The GPU check (`tools/gpu-check`, issue 20): on a GPU machine, in one go, the `cuda`-marked tests, Table 5's
timings of Dash and Dot of the paper's architectures at Table 5's batch sizes (printed beside the paper's
numbers), and the cifar rehearsal with the device chosen as in a real run.

Each timing is the experiment's own latency job (``Workflow.stage_args("latency", ...)``: its batch size,
Dot config, guidance and classifier scales), run by `harness latency` with the Dash as ``config:<its
packaged architecture>`` (random weights at the real size: no download) and the results folder under
the check's output. ``TABLE5`` registers which latency job of which experiment gives each Table 5 row;
a row whose Dash has no packaged architecture yet is reported as skipped.

``--dry-run`` prints every command without running one; ``--small`` runs them on CPU at batch 2 with one
timed step (the test: every step wired) and rehearses nothing.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from harness.registry import Registry


@dataclass(frozen=True)
class Timing:
    """One Table 5 row: the latency job (experiment, its latency Dot) that times its Dash and Dot."""

    row: str  # the row's name in harness/analysis/paper_reference.csv (ref table5, column variant)
    experiment: str
    dot: str


TABLE5: Registry[Timing] = Registry("Table 5 timing")
for _timing in (
    Timing("DDPM CIFAR-10 (32x32)", "cifar", "ddim"),
    Timing("SDE CIFAR-10 (32x32)", "cifar", "sde"),
    Timing("DDPM CelebA-HQ (256x256)", "ddim_celebahq256", "ddim"),
    Timing("DDIM CelebA (64x64)", "ddim_celeba64", "ddim"),
    Timing("Improved DDPM ImageNet (64x64)", "ddim_imagenet64", "ddim"),
    Timing("LDM LSUN-Church (256x256)", "ddim_church256", "ddim"),
    Timing("LDM (SD v1.4) MS-COCO (512x512)", "sd", "shared"),
    Timing("ADM ImageNet (64x64)", "imagenet64_cond", "cond"),
    Timing("ADM-G ImageNet (64x64)", "imagenet64_cond", "guided"),
    Timing("LCM-SDXL (1024x1024)", "lcm_sdxl", "shared"),
):
    TABLE5.register(_timing.row)(_timing)

SMALL = ["--batch-size", "2", "--warmup", "0", "--repeats", "1", "--device", "cpu"]  # --small: wiring, not timing


def _drop(words: list[str], flag: str) -> list[str]:
    """``words`` without ``flag`` and its value."""
    out, skip = [], False
    for arg in words:
        if skip:
            skip = False
        elif arg == flag:
            skip = True
        else:
            out.append(arg)
    return out


def latency_command(workflow, timing: Timing, results_dir: Path, small: bool) -> list[str] | None:
    """The `harness latency` command of ``timing``: its experiment's latency job with the Dash as its packaged
    architecture (``config:<name>``), the results under ``results_dir``; None when the Dash has no packaged
    architecture."""
    from harness import external
    from harness.rehearsal.stand_ins import dash_architecture

    args = shlex.split(workflow.stage_args("latency", {"exp": timing.experiment, "dot": timing.dot}))
    dash = args[args.index("--dash") + 1]
    if not dash.startswith("config:"):
        path = args[args.index("--dash-path") + 1] if "--dash-path" in args else None
        architecture = dash_architecture(dash, external.at(path) if path else None)
        if architecture is None:
            return None
        args = _drop(args, "--dash-path")
        args[args.index("--dash") + 1] = f"config:{architecture}"
    args = _drop(args, "--results-dir") + ["--results-dir", str(results_dir)]
    for flag in ("--batch-size", "--warmup", "--repeats", "--device") if small else ():
        args = _drop(args, flag)
    return [sys.executable, "-m", "harness", "latency", *args, *(SMALL if small else ["--device", "cuda"])]


def comparison(results_dirs: dict[str, Path]):
    """Measured Dash and Dot seconds per step and N per Table 5 row, beside the paper's (every device it reports)."""
    import pandas as pd

    from harness.analysis import paper_reference
    from harness.latency import results

    paper = paper_reference.rows("table5").pivot_table(index="variant", columns=["device", "metric"], values="value")
    paper.columns = [f"paper {device} {metric.replace('_latency_s', ' s')}" for device, metric in paper.columns]
    rows = []
    for row, folder in results_dirs.items():
        measured = results.load_all(folder).iloc[-1]
        rows.append({"Table 5 row": row, "batch": measured["batch_size"], "device": measured["device_name"],
                     "Dash s": measured["dash_median_s"], "Dot s": measured["dot_median_s"], "N": measured["N"],
                     **(paper.loc[row].to_dict() if row in paper.index else {})})
    return pd.DataFrame(rows)


def _run(command: list[str], dry_run: bool, **kwargs) -> int:
    print("$ " + shlex.join(command), flush=True)
    return 0 if dry_run else subprocess.run(command, **kwargs).returncode


def gpu_check(*, root: Path, out: Path, dry_run: bool = False, small: bool = False) -> int:
    """The three steps; the number of failed steps (0: all passed)."""
    import yaml

    from harness.report.tables import render
    from harness.experiments import Workflow

    failed, started = 0, time.time()
    print("== 1/3 the cuda-marked tests", flush=True)
    tests = [sys.executable, "-m", "pytest", "-q", "-m", "cuda", str(root / "tests"), *(["--collect-only"] if small else [])]
    failed += _run(tests, dry_run, cwd=root) not in (0, 5)  # 5: none collected
    print(f"== 2/3 Table 5: Dash and Dot of the paper's architectures{' (small: CPU, batch 2)' if small else ''}",
          flush=True)
    workflow = Workflow(yaml.safe_load((root / "config" / "config.yaml").read_text()), str(root))
    timed = {}
    for name, timing in TABLE5.in_order():
        folder = out / "latency" / f"{timing.experiment}_{timing.dot}"
        command = latency_command(workflow, timing, folder, small)
        if command is None:
            print(f"skipped {name}: its Dash has no packaged architecture (harness/models/configs)")
        elif _run(command, dry_run, cwd=root) == 0:
            timed[name] = folder
        else:
            failed += 1
        if small:
            break  # one timing shows the step is wired
    if timed and not dry_run:
        print(render(comparison(timed), "md"), flush=True)
    print("== 3/3 the cifar rehearsal, device chosen as in a real run", flush=True)
    clone = out / "rehearsal-clone"
    steps = [["git", "clone", "-q", str(root), str(clone)],
             ["snakemake", "-j8", "reports/speedup_cifar.pdf", "--config", "rehearsal=true"]]
    # HARNESS_GPUS empty: launch.py locks no GPU per job (on one GPU it would run the jobs one at a time); each job
    # still picks its device as in a real run (harness.stages.options.resolve_device: cuda where torch sees one)
    env = {**os.environ, "PYTHONPATH": str(clone), "HARNESS_GPUS": ""}
    if small:
        print("skipped in --small mode: " + " && ".join(shlex.join(s) for s in steps))
    else:
        failed += _run(steps[0], dry_run) != 0 or _run(steps[1], dry_run, cwd=clone, env=env) != 0
    print(f"gpu-check: {failed} step(s) failed, {time.time() - started:.0f} s", flush=True)
    return failed
