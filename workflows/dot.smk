# Dot training (Algorithm 1) against the frozen Dash; several GPUs through torchrun (launch.py).


rule train_dot:
    input:
        lambda wc: E(wc).dash_inputs(E(wc).dot(wc.dot)),
    output:
        "work/{exp}/dot/{dot}/dot.safetensors",
        "work/{exp}/dot/{dot}/dot.json",
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
    shell:
        "{params.launch} -m harness train-dot {params.args} --threads {threads} --resume > {log} 2>&1"
