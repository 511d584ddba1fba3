# Dot training (Algorithm 1) against the frozen Dash; several GPUs through torchrun (launch.py).


rule train_dot:
    input:
        lambda wc: E(wc).dash_inputs(E(wc).dot(wc.dot)),
    output:
        "work/{exp}/dot/{dot}/dot.safetensors",
        "work/{exp}/dot/{dot}/dot.json",
    log:
        "logs/{exp}/train_dot_{dot}.log",
    params:
        args=args("train_dot"),
        launch=lambda wc: f"{LAUNCH} --gpus {E(wc).dot(wc.dot).get('gpus', 1)} --torchrun --",
    threads: lambda wc: E(wc).dot(wc.dot).get("threads", 1)
    resources:
        gpu=lambda wc: E(wc).dot(wc.dot).get("gpus", 1),
    shell:
        "{params.launch} -m harness train-dot {params.args} --threads {threads} --resume > {log} 2>&1"


# Remakes the shipped digits Dot, harness/assets/dot-digits, with the recipe of the digits experiment's
# Dot block (config/config.yaml; its README gives the command and the time). Nothing depends on it:
# run it on request with `snakemake -j2 -f remake_dot_digits` (after the Dash, if that was remade).
rule remake_dot_digits:
    output:
        "harness/assets/dot-digits/dot.safetensors",
        "harness/assets/dot-digits/dot.json",
    log:
        "logs/remake_dot_digits.log",
    params:
        args=lambda wc: _checked(WORKFLOW.stage_args, "remake_dot_digits", {"exp": "digits", "dot": "ddim"}),
    threads: 1
    shell:
        "python -m harness train-dot {params.args} --threads {threads} > {log} 2>&1"
