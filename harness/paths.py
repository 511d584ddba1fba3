"""Every file the workflow makes, as one pattern each, relative to the run directory: the Snakemake
rules declare these patterns as their outputs (workflows/*.smk), and the experiment model fills them
in for one job (:func:`fill`). Wildcards are in braces: ``exp`` an experiment, ``dot`` a Dot,
``point`` a point, ``rep`` a replicate (or ``pilot``), ``shard`` a shard number (3 digits).
"""

from __future__ import annotations

# a Dot folder (harness/morse/checkpoint.py): the trainable weights and the config with provenance
DOT_WEIGHTS = "dot.safetensors"
DOT_META = "dot.json"
# a Dash folder made by `harness train-dash` (diffusers' save_pretrained, and how it was trained)
DASH_CONFIG = "config.json"
DASH_WEIGHTS = "diffusion_pytorch_model.safetensors"
DASH_TRAIN_CONFIG = "train_config.json"

WORK = "work/{exp}"  # what a run makes on the way to its results
INPUTS_STAMP = WORK + "/inputs.json"  # `harness check`: every outside input is present
STAND_INS = WORK + "/stand_ins.json"  # a rehearsal's stand-in inputs
TRAINED_DASH = WORK + "/dash"  # the digits Dash trained in the run (`dash.source: train-dash`)
DOT_DIR = WORK + "/dot/{dot}"  # a Dot trained in the run
FIDSTATS_SUFFIX = ".fidstats"  # mergeable FID statistics (`harness fid-stats`), never mistaken for a shard
FID_STATS = WORK + "/fidstats/{point}.r{rep}.s{shard}" + FIDSTATS_SUFFIX  # one shard's FID feature statistics
PROMPTS = WORK + "/prompts.txt"  # the MS-COCO captions the CLIP score draws
METRIC_ROW = WORK + "/metrics/{point}.r{rep}.{metric}.csv"  # one metric of one point and replicate
LATENCY_TIMING = WORK + "/latency/{dot}"  # one `harness latency` job, named by its first Dot
TUNED = WORK + "/tuned_ratio.csv"  # the ratio chosen per LSD budget on the pilot seeds
BATCH_KEEP = WORK + "/batch/{job}"  # a batched job's finished outputs, kept across a kill (workflows/batch.smk)
REFSTATS = "work/refstats"  # FID reference statistics, shared by every experiment (cached by content)
SAMPLES = "samples/{exp}"
SHARD = SAMPLES + "/{point}.r{rep}.s{shard}.npz"  # images of one seed range (harness/shards.py)
SHARD_META = SAMPLES + "/{point}.r{rep}.s{shard}.json"  # the same shard's meta
BENCHMARKS = "benchmarks/{exp}"  # Snakemake's per-job benchmarks: the report's job costs
RESULTS = "results/{exp}.csv"  # one row per request, with its latency in LSD
SPEEDUP = "results/{exp}_speedup.csv"
SPEEDUP_SUMMARY = "results/{exp}_speedup_summary.csv"
REPORT = "reports/speedup_{exp}.pdf"
REPORT_FILE = "reports/{exp}/{file}"  # the report's figures and tables, one file each
SHIPPED_DASH = "harness/assets/dash-{shipped}"  # a Dash the package ships (harness/assets), remade on request
SHIPPED_DOT = "harness/assets/dot-{exp}/{dot}"  # a Dot an experiment ships (`dots.<name>.path`)

def fill(pattern: str, **wildcards) -> str:
    """``pattern`` with the named wildcards filled in (a shard number as 3 digits); the others stay."""
    if "shard" in wildcards:
        wildcards["shard"] = f"{int(wildcards['shard']):03d}"
    for name, value in wildcards.items():
        if "{" + name + "}" not in pattern:
            raise KeyError(f"{pattern!r} has no wildcard {name!r}")
        pattern = pattern.replace("{" + name + "}", str(value))
    return pattern

