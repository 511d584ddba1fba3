# The Morse benchmark workflow: every stage is one `python -m harness STAGE ...` call.
#
#   snakemake -j2                              the embedded digits experiment, offline, on CPU
#   snakemake -j8 reports/speedup_cifar.pdf    a paper experiment (config/experiments/cifar.yaml)
#   snakemake -n reports/speedup_sd.pdf        plan it only (offline, seconds)
#   snakemake -j2 reports/speedup_cifar.pdf --config rehearsal=true    rehearse it (CPU, rehearsal/)
#
# config/config.yaml holds the embedded default and names the experiment files to load;
# config/schema.json validates them. The experiment model (points, shards, command lines) is
# harness/experiments; workflows/*.smk only declare rules.

import os
import sys


configfile: os.path.join(workflow.basedir, "config", "config.yaml")


from harness import rehearsal
from harness.experiments.config import command_line_booleans

command_line_booleans(config)  # `--config allow_download=true` arrives as the string 'true'


# `--config rehearsal=true` (docs/rehearsal.md): the same targets, rules and code, in a tree of its own.
# Every relative path (results/, reports/, work/, samples/, logs/ and the registered inputs data/...,
# models/...) lands under rehearsal/; stand-in inputs are written there and the Hugging Face cache
# (HF_HOME) is rehearsal/hf, so a hub id resolves to a stand-in snapshot through the real lookup.
if config.get("rehearsal"):
    if workflow.overwrite_workdir is not None:  # Snakemake ignores `workdir:` under --directory
        print("error: a rehearsal runs in the rehearsal/ tree of the folder it starts in: run it from that "
              "folder without --directory (cd there first)", file=sys.stderr)
        sys.exit(2)

    workdir: rehearsal.TREE  # under the run directory, beside (never in) its results/ and reports/

    os.environ["HF_HOME"] = os.path.abspath("hf")


include: "workflows/common.smk"
include: "workflows/data.smk"
include: "workflows/dash.smk"
include: "workflows/dot.smk"
include: "workflows/generate.smk"
include: "workflows/metrics.smk"
include: "workflows/batch.smk"
include: "workflows/latency.smk"
include: "workflows/analysis.smk"
include: "workflows/warnings.smk"


rule all:
    default_target: True
    input:
        WORKFLOW.default_targets(),
