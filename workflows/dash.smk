# Dash: the pre-trained model. Paper experiments read official weights (hub cache or a local
# folder, see check_inputs); `dash: {source: train-dash}` trains the small digits Dash here.


rule train_dash:
    output:
        "work/{exp}/dash/train_config.json",
        "work/{exp}/dash/diffusion_pytorch_model.safetensors",
    log:
        "logs/{exp}/train_dash.log",
    benchmark:
        "benchmarks/{exp}/train_dash/dash.tsv"
    params:
        args=args("train_dash"),
    threads: all_cores
    resources:
        gpu=1,
    shell:
        "python -m harness train-dash {params.args} --threads {threads} > {log} 2>&1"


# Remakes the shipped digits Dash, harness/assets/dash-digits, as recorded in its train_config.json
# (2,000 steps of batch 64, seed 0; about 25 minutes on one CPU core). Nothing depends on it: run it
# on request with `snakemake -j2 -f remake_dash_digits`.
rule remake_dash_digits:
    output:
        "harness/assets/dash-digits/diffusion_pytorch_model.safetensors",
        "harness/assets/dash-digits/config.json",
        "harness/assets/dash-digits/train_config.json",
    log:
        "logs/remake_dash_digits.log",
    params:
        steps=WORKFLOW.settings.dash_digits["train_steps"],
        batch=WORKFLOW.settings.dash_digits["batch_size"],
    threads: 1
    shell:
        "python -m harness train-dash --config digits --steps {params.steps} --batch-size {params.batch}"
        " --seed 0 --threads {threads} --out harness/assets/dash-digits > {log} 2>&1"
