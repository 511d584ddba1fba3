# Generation: one job per seed-range shard, so GPUs or cluster nodes run shards in parallel.
# `harness sample` writes the shard (.npz) and its meta (.json: grid, Dash/Dot assignment) under
# temporary names and renames them, so a killed job leaves nothing that looks finished; a rerun
# recomputes only the missing shards.


rule sample:
    wildcard_constraints:
        exp=UNBATCHED,
    input:
        lambda wc: E(wc).sample_inputs(wc.point),
    output:
        npz=paths.SHARD,
        meta=paths.SHARD_META,
    log:
        "logs/{exp}/sample/{point}.r{rep}.s{shard}.log",
    benchmark:
        "benchmarks/{exp}/sample/{point}.r{rep}.s{shard}.tsv"
    params:
        args=args("sample"),
        launch=f"{LAUNCH} --gpus 1 --",
    threads: 1
    resources:
        gpu=1,
        mem_mb=memory("sample"),
    shell:
        "{params.launch} -m harness sample {params.args} --threads {threads} --out {output.npz} > {log} 2>&1"
