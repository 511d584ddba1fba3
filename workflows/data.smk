from harness.experiments.content import content_stamp


# The first rule of every experiment checks that its Dash weights, datasets, reference images and
# metric weights are present (offline), and lists whatever is missing with how to supply it.
rule check_inputs:
    input:
        paths.STAND_INS if REHEARSAL else [],
    output:
        paths.INPUTS_STAMP,
    log:
        "logs/{exp}/check_inputs.log",
    params:
        args=args("check_inputs"),
        status=lambda wc: E(wc).status,
        content=lambda wc: content_stamp(E(wc)),  # changed bytes of a Dash, shipped Dot or data: rerun, and a new record
    message:
        "checking the inputs of {params.status}"
    shell:
        "python -m harness check {params.args} --content-sha256 {params.content} --out {output} --log {log}"


# A rehearsal's stand-in inputs (harness/rehearsal), written before check_inputs checks them as real ones.
rule rehearsal_inputs:
    output:
        paths.STAND_INS,
    log:
        "logs/{exp}/rehearsal_inputs.log",
    resources:
        mem_mb=memory("rehearsal_inputs"),
    params:
        args=args("check_inputs"),
        stop=lambda wc: [] if REHEARSAL else _stop("stand-in inputs are written only in a rehearsal (--config rehearsal=true)"),
    message:
        "writing the stand-in inputs of the rehearsal of experiment {wildcards.exp}"
    shell:
        "python -m harness rehearsal-inputs {params.args} --out {output} --log {log}"


# Every experiment's report rehearsed: `snakemake -j2 rehearse_all --config rehearsal=true` (docs/rehearsal.md).
rule rehearse_all:
    input:
        lambda wc: WORKFLOW.report_targets if REHEARSAL else _stop("rehearse_all runs with --config rehearsal=true"),


# Every experiment of every config file validated, not only those a target needs: `snakemake lint`.
rule lint:
    params:
        config=lambda wc: shlex.quote(json.dumps(config)),
    shell:
        "python -m harness check-configs --json {params.config}"


# A target that names no experiment: one line listing the known report targets (not "no rule").
# Snakemake also asks this rule about known reports (the report rule wins those by ruleorder).
rule unknown_target:
    input:
        lambda wc: [] if wc.target in WORKFLOW.report_targets else _stop(WORKFLOW.unknown_target(wc.target)),
    output:
        "{target}",
    wildcard_constraints:
        target=r"reports/speedup_[^/]+\.pdf|[^/.]+",  # a report, or a bare word that is no rule's name


ruleorder: report > unknown_target


# Cheap bookkeeping jobs run where Snakemake runs, never as cluster jobs.
localrules:
    check_inputs,
    rehearsal_inputs,
    attach_lsd,
    speedup,
    report,
    lint,
    unknown_target,
