# Dash: the pre-trained model. Paper experiments read official weights (hub cache or a local
# folder, see check_inputs); `dash: {source: train-dash}` trains the small digits Dash here.


rule train_dash:
    output:
        f"{paths.TRAINED_DASH}/{paths.DASH_TRAIN_CONFIG}",
        f"{paths.TRAINED_DASH}/{paths.DASH_WEIGHTS}",
    log:
        "logs/{exp}/train_dash.log",
    benchmark:
        "benchmarks/{exp}/train_dash/dash.tsv"
    params:
        args=args("train_dash"),
    threads: all_cores
    resources:
        gpu=1,
        mem_mb=memory("train_dash"),
    shell:
        "python -m harness train-dash {params.args} --threads {threads} > {log} 2>&1"


# Remakes a shipped Dash, harness/assets/dash-<name> (harness/assets/__init__.py: digits, digits-cond),
# as recorded in its train_config.json (digits: 2,000 steps of batch 64, seed 0, about 25 minutes on one
# CPU core; digits-cond: 1,000 steps). Nothing depends on them: run one on request with its folder's
# train_config.json as the target, `snakemake -j2 -f harness/assets/dash-digits/train_config.json` (or dash-digits-cond/).
from harness.assets import SHIPPED_DASH


rule remake_dash:
    output:
        f"{paths.SHIPPED_DASH}/{paths.DASH_WEIGHTS}",
        f"{paths.SHIPPED_DASH}/{paths.DASH_CONFIG}",
        f"{paths.SHIPPED_DASH}/{paths.DASH_TRAIN_CONFIG}",
    wildcard_constraints:
        shipped="|".join(sorted(SHIPPED_DASH, key=len, reverse=True)),
    log:
        "logs/remake_dash_{shipped}.log",
    params:
        steps=WORKFLOW.settings.dash_digits["train_steps"],
        batch=WORKFLOW.settings.dash_digits["batch_size"],
        options=lambda wc: SHIPPED_DASH[wc.shipped][1],
    threads: 1
    shell:
        "python -m harness train-dash --config digits --steps {params.steps} --batch-size {params.batch}"
        " --seed 0 --threads {threads} {params.options} --out harness/assets/dash-{wildcards.shipped} > {log} 2>&1"

