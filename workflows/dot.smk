# Dot training (Algorithm 1) against the frozen Dash; several GPUs through torchrun (launch.py).


rule train_dot:
    input:
        lambda wc: E(wc).dash_inputs(E(wc).dot(wc.dot)),
    output:
        f"{paths.DOT_DIR}/{paths.DOT_WEIGHTS}",
        f"{paths.DOT_DIR}/{paths.DOT_META}",
    log:
        "logs/{exp}/train_dot_{dot}.log",
    benchmark:
        "benchmarks/{exp}/train_dot/{dot}.tsv"
    params:
        args=args("train_dot"),
        launch=lambda wc: f"{LAUNCH} --gpus {E(wc).dot(wc.dot).get('gpus', 1)} --torchrun --",
    threads: lambda wc: E(wc).dot(wc.dot).get("threads", 1)
    resources:
        gpu=lambda wc: E(wc).dot(wc.dot).get("gpus", 1),
        mem_mb=memory("train_dot"),
    shell:
        "{params.launch} -m harness train-dot {params.args} --threads {threads} --resume > {log} 2>&1"


# Remakes a Dot an experiment ships instead of training it in the run (`dots.<name>.path`,
# harness/assets/dot-<experiment>/<name>), with the experiment's own train-dot options. Nothing
# depends on it: `snakemake -j2 -f harness/assets/dot-digits_cond/ddim/dot.json`.
rule remake_dot:  # no inputs, like remake_dash: a shipped Dot is never remade unless asked for (-f)
    output:
        f"{paths.SHIPPED_DOT}/{paths.DOT_WEIGHTS}",
        f"{paths.SHIPPED_DOT}/{paths.DOT_META}",
    log:
        "logs/{exp}/remake_dot_{dot}.log",
    params:
        args=args("train_dot"),
    threads: lambda wc: E(wc).dot(wc.dot).get("threads", 1)
    resources:
        mem_mb=memory("train_dot"),
    shell:
        "python -m harness train-dot {params.args} --threads {threads} --resume > {log} 2>&1"
