# Analysis and report: rows + N -> latency_lsd (attach_lsd), speedups at equal metric, the report PDF.
# Outputs wrapped in report() (captions in workflows/report/) make `snakemake --report report.html`
# a browsable report after a run.


rule attach_lsd:
    input:
        lambda wc: E(wc).attach_lsd_inputs(),
    output:
        report("results/{exp}.csv", caption="report/results.rst", category="{exp}", subcategory="tables"),
    log:
        "logs/{exp}/attach_lsd.log",
    params:
        args=args("attach_lsd"),
    shell:
        "python -m harness attach-lsd {params.args} -o {output} > {log} 2>&1"


# Beyond the paper: the ratio per LSD budget, chosen on the pilot seeds (series with `tune_ratio: true`).
rule tune_ratio:
    input:
        lambda wc: E(wc).pilot_rows(),
    output:
        "work/{exp}/tuned_ratio.csv",
    log:
        "logs/{exp}/tune_ratio.log",
    params:
        args=args("tune_ratio"),
    shell:
        "python -m harness tune-ratio {params.args} -o {output} > {log} 2>&1"


rule speedup:
    input:
        "results/{exp}.csv",
    output:
        points=report("results/{exp}_speedup.csv", caption="report/speedup.rst", category="{exp}",
                      subcategory="tables"),
        summary=report("results/{exp}_speedup_summary.csv", caption="report/speedup_summary.rst", category="{exp}",
                       subcategory="tables"),
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
        pdf=report("reports/speedup_{exp}.pdf", caption="report/report.rst", category="{exp}", subcategory="report"),
        curves=report("reports/{exp}/curves.png", caption="report/curves.rst", category="{exp}", subcategory="figures"),
        curves_svg=report("reports/{exp}/curves.svg", caption="report/curves.rst", category="{exp}",
                          subcategory="figures"),
        curves_pdf="reports/{exp}/curves.pdf",
        speedup_md="reports/{exp}/speedup.md",
        speedup_tex="reports/{exp}/speedup.tex",
    log:
        "logs/{exp}/report.log",
    params:
        args=args("report"),
    shell:
        "python -m harness report {input.rows} {params.args} --out-dir reports > {log} 2>&1"
