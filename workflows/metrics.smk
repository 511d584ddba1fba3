# Metrics: one row CSV per (point, repeat, metric), from all of that point's shards.
# FID reference statistics are computed once per (dataset, extractor, resize) and cached in
# work/refstats by `harness fid` itself. A point of several shards gets its Inception features
# per shard (`fid_stats`, one job per shard, run as soon as the shard lands); `fid` merges them.


rule fid_stats:
    input:
        shard="samples/{exp}/{point}.r{rep}.s{shard}.npz",
        checked="work/{exp}/inputs.json",
    output:
        "work/{exp}/fidstats/{point}.r{rep}.s{shard}.fidstats",
    log:
        "logs/{exp}/fid_stats/{point}.r{rep}.s{shard}.log",
    params:
        options=lambda wc: fid_options(wc.exp),
        launch=f"{LAUNCH} --gpus 1 --",
    threads: 1
    resources:
        gpu=1,
    shell:
        "{params.launch} -m harness fid-stats {input.shard} {params.options} --out {output} > {log} 2>&1"


rule fid:
    input:
        shards=fid_inputs,
        checked="work/{exp}/inputs.json",
    output:
        "work/{exp}/metrics/{point}.r{rep}.fid.csv",
    log:
        "logs/{exp}/fid/{point}.r{rep}.log",
    params:
        ref=lambda wc: shlex.quote(fid_settings(wc.exp)["reference"]),
        num=lambda wc: samples(wc.exp)["num"],
        options=lambda wc: fid_options(wc.exp),
        launch=f"{LAUNCH} --gpus 1 --",
    threads: 1
    resources:
        gpu=1,
    shell:
        "{params.launch} -m harness fid {input.shards} --ref {params.ref} --num-samples {params.num}"
        " {params.options} --refstats-dir work/refstats --out {output} > {log} 2>&1"


rule coco_prompts:
    input:
        "work/{exp}/inputs.json",
    output:
        "work/{exp}/prompts.txt",
    log:
        "logs/{exp}/coco_prompts.log",
    params:
        annotations=lambda wc: shlex.quote(experiment(wc.exp)["metrics"]["clip"]["annotations"]),
        num=lambda wc: experiment(wc.exp)["metrics"]["clip"].get("num_prompts", samples(wc.exp)["num"]),
        seed=lambda wc: experiment(wc.exp)["metrics"]["clip"].get("prompt_seed", 0),
    shell:
        "python -m harness coco-prompts --annotations {params.annotations} --num {params.num} --seed {params.seed}"
        " --out {output} > {log} 2>&1"


rule clip:
    input:
        shards=lambda wc: shard_files(wc.exp, wc.point, wc.rep),
        prompts="work/{exp}/prompts.txt",
    output:
        "work/{exp}/metrics/{point}.r{rep}.clip.csv",
    log:
        "logs/{exp}/clip/{point}.r{rep}.log",
    params:
        options=lambda wc: clip_options(wc.exp),
        num=lambda wc: samples(wc.exp)["num"],
        launch=f"{LAUNCH} --gpus 1 --",
    threads: 1
    resources:
        gpu=1,
    shell:
        "{params.launch} -m harness clip {input.shards} --num-samples {params.num} {params.options}"
        " --out {output} > {log} 2>&1"
