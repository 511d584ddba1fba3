# The Morse benchmark workflow: every stage is one `python -m harness STAGE ...` call.
#
#   snakemake -j2                              the embedded digits experiment, offline, on CPU
#   snakemake -j8 reports/speedup_cifar.pdf    a paper experiment (config/experiments/cifar.yaml)
#   snakemake -n reports/speedup_sd.pdf        plan it only (offline, seconds)
#
# config/config.yaml holds the embedded default and names the experiment files to load;
# config/schema.json validates them. The experiment model (points, shards, command lines) is
# harness/experiments; workflows/*.smk only declare rules.

import os


configfile: os.path.join(workflow.basedir, "config", "config.yaml")


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
