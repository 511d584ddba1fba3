# Metrics: one row CSV per (point, repeat, metric), from all of that point's shards.
# FID reference statistics are computed once per (dataset, extractor, resize) and cached in
# work/refstats by `harness fid` itself. A point of several shards gets its feature statistics
# per shard (`fid_stats`, one job per shard, run as soon as the shard lands); `fid` merges them.


rule fid_stats:
    input:
        shard=paths.SHARD,
        checked=paths.INPUTS_STAMP,
    output:
        paths.FID_STATS,
    log:
        "logs/{exp}/fid_stats/{point}.r{rep}.s{shard}.log",
    benchmark:
        "benchmarks/{exp}/fid_stats/{point}.r{rep}.s{shard}.tsv"
    params:
        args=args("fid_stats"),
        launch=f"{LAUNCH} --gpus 1 --",
    threads: 1
    resources:
        gpu=1,
        mem_mb=memory("fid_stats"),
    shell:
        "{params.launch} -m harness fid-stats {input.shard} {params.args} --out {output} > {log} 2>&1"


rule fid:
    wildcard_constraints:
        exp=UNBATCHED,
    input:
        shards=lambda wc: E(wc).fid_inputs(wc.point, wc.rep),
        checked=paths.INPUTS_STAMP,
    output:
        fill(paths.METRIC_ROW, metric="fid"),
    log:
        "logs/{exp}/fid/{point}.r{rep}.log",
    benchmark:
        "benchmarks/{exp}/fid/{point}.r{rep}.tsv"
    params:
        args=args("fid"),
        launch=f"{LAUNCH} --gpus 1 --",
    threads: 1
    resources:
        gpu=1,
        mem_mb=memory("fid"),
    shell:
        "{params.launch} -m harness fid {input.shards} {params.args} --out {output} > {log} 2>&1"


rule coco_prompts:
    input:
        paths.INPUTS_STAMP,
    output:
        paths.PROMPTS,
    log:
        "logs/{exp}/coco_prompts.log",
    params:
        args=args("coco_prompts"),
    shell:
        "python -m harness coco-prompts {params.args} --out {output} > {log} 2>&1"


rule clip:
    wildcard_constraints:
        exp=UNBATCHED,
    input:
        shards=lambda wc: E(wc).shards(wc.point, wc.rep),
        prompts=lambda wc: E(wc).metric_inputs("clip"),
    output:
        fill(paths.METRIC_ROW, metric="clip"),
    log:
        "logs/{exp}/clip/{point}.r{rep}.log",
    benchmark:
        "benchmarks/{exp}/clip/{point}.r{rep}.tsv"
    params:
        args=args("clip"),
        launch=f"{LAUNCH} --gpus 1 --",
    threads: 1
    resources:
        gpu=1,
        mem_mb=memory("clip"),
    shell:
        "{params.launch} -m harness clip {input.shards} {params.args} --out {output} > {log} 2>&1"


rule class_accuracy:
    wildcard_constraints:
        exp=UNBATCHED,
    input:
        shards=lambda wc: E(wc).shards(wc.point, wc.rep),
        checked=paths.INPUTS_STAMP,
    output:
        fill(paths.METRIC_ROW, metric="class_accuracy"),
    log:
        "logs/{exp}/class_accuracy/{point}.r{rep}.log",
    params:
        args=args("class_accuracy"),
        launch=f"{LAUNCH} --gpus 1 --",
    threads: 1
    resources:
        gpu=1,
        mem_mb=memory("class_accuracy"),
    shell:
        "{params.launch} -m harness class-accuracy {input.shards} {params.args} --out {output} > {log} 2>&1"
