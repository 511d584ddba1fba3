# Analysis and report: rows + N -> latency_lsd (curves), speedups at equal metric, the report PDF.


rule curves:
    input:
        curves_inputs,
    output:
        "results/{exp}.csv",
    log:
        "logs/{exp}/curves.log",
    params:
        rows=lambda wc: metric_rows(wc.exp),
        latency=curves_latency_args,
    shell:
        "python -m harness curves {params.rows} {params.latency} -o {output} > {log} 2>&1"


rule speedup:
    input:
        "results/{exp}.csv",
    output:
        points="results/{exp}_speedup.csv",
        summary="results/{exp}_speedup_summary.csv",
    log:
        "logs/{exp}/speedup.log",
    params:
        args=speedup_args,
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
        args=report_args,
        latency=lambda wc: f"work/{wc.exp}/latency",
        note=lambda wc: shlex.quote(experiment(wc.exp).get("note") or experiment(wc.exp)["title"]),
    shell:
        "python -m harness report {input.rows} --experiment {wildcards.exp} {params.args} --note {params.note}"
        " --latency-dir {params.latency} --shards samples/{wildcards.exp} --dots work/{wildcards.exp}/dot"
        " --out-dir reports > {log} 2>&1"
