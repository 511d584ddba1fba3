# Analysis and report: rows + N -> latency_lsd (attach_lsd), speedups at equal metric, the report PDF.


rule attach_lsd:
    input:
        lambda wc: E(wc).attach_lsd_inputs(),
    output:
        "results/{exp}.csv",
    log:
        "logs/{exp}/attach_lsd.log",
    params:
        args=args("attach_lsd"),
    shell:
        "python -m harness attach-lsd {params.args} -o {output} > {log} 2>&1"


rule speedup:
    input:
        "results/{exp}.csv",
    output:
        points="results/{exp}_speedup.csv",
        summary="results/{exp}_speedup_summary.csv",
    log:
        "logs/{exp}/speedup.log",
    params:
        args=args("speedup"),
    shell:
        "python -m harness speedup {input} {params.args} --out {output.points} --summary-out {output.summary}"
        " > {log} 2>&1"


rule report:
    input:
        rows="results/{exp}.csv",
        speedup="results/{exp}_speedup_summary.csv",
    output:
        "reports/speedup_{exp}.pdf",
    log:
        "logs/{exp}/report.log",
    params:
        args=args("report"),
    shell:
        "python -m harness report {input.rows} {params.args} --out-dir reports > {log} 2>&1"
