# Dot training (Algorithm 1) against the frozen Dash; several GPUs through torchrun (launch.py).


rule train_dot:
    input:
        dot_inputs,
    output:
        "work/{exp}/dot/{dot}/dot.safetensors",
        "work/{exp}/dot/{dot}/dot.json",
    log:
        "logs/{exp}/train_dot_{dot}.log",
    params:
        args=dot_args,
        launch=lambda wc: f"{LAUNCH} --gpus {dot_gpus(wc)} --torchrun --",
    threads: lambda wc: dot_block(wc).get("threads", 1)
    resources:
        gpu=dot_gpus,
    shell:
        "{params.launch} -m harness train-dot {params.args} --threads {threads}"
        " --out work/{wildcards.exp}/dot/{wildcards.dot} --resume > {log} 2>&1"
