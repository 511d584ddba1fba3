# The first rule of every experiment checks that its Dash weights, datasets, reference images and
# metric weights are present (offline), and lists whatever is missing with how to supply it.


rule check_inputs:
    output:
        "work/{exp}/inputs.json",
    log:
        "logs/{exp}/check_inputs.log",
    params:
        args=args("check_inputs"),
        status=lambda wc: E(wc).status,
    message:
        "checking the inputs of {params.status}"
    shell:
        "python -m harness check {params.args} --out {output} --log {log}"


# Cheap bookkeeping jobs run where Snakemake runs, never as cluster jobs.
localrules:
    check_inputs,
    attach_lsd,
    speedup,
    report,
