# Data and inputs: the first rule of every experiment checks that its Dash weights, dataset and
# reference images are present (offline), and says what is missing and how to supply it.


rule check_inputs:
    output:
        "work/{exp}/inputs.json",
    log:
        "logs/{exp}/check_inputs.log",
    params:
        args=check_args,
    shell:
        "python -m harness check --experiment {wildcards.exp} {params.args} --out {output} --log {log}"


# Cheap bookkeeping jobs run where Snakemake runs, never as cluster jobs.
localrules:
    check_inputs,
    curves,
    speedup,
    report,
