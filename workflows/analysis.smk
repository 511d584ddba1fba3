# Analysis and report: rows + N -> latency_lsd (attach_lsd), speedups at equal metric, the report PDF.
# Outputs wrapped in report() (captions in workflows/report/) make `snakemake --report report.html`
# a browsable report after a run.


rule attach_lsd:
    input:
        lambda wc: E(wc).attach_lsd_inputs(),
    output:
        report(paths.RESULTS, caption="report/results.rst", category="{exp}", subcategory="tables"),
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
        paths.TUNED,
    log:
        "logs/{exp}/tune_ratio.log",
    params:
        args=args("tune_ratio"),
    shell:
        "python -m harness tune-ratio {params.args} -o {output} > {log} 2>&1"


rule speedup:
    input:
        paths.RESULTS,
    output:
        points=report(paths.SPEEDUP, caption="report/speedup.rst", category="{exp}",
                      subcategory="tables"),
        summary=report(paths.SPEEDUP_SUMMARY, caption="report/speedup_summary.rst", category="{exp}",
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
        rows=paths.RESULTS,
        speedup=paths.SPEEDUP_SUMMARY,
    output:
        pdf=report(paths.REPORT, caption="report/report.rst", category="{exp}", subcategory="report"),
        curves=report(fill(paths.REPORT_FILE, file="curves.png"), caption="report/curves.rst", category="{exp}", subcategory="figures"),
        curves_svg=report(fill(paths.REPORT_FILE, file="curves.svg"), caption="report/curves.rst", category="{exp}",
                          subcategory="figures"),
        curves_pdf=fill(paths.REPORT_FILE, file="curves.pdf"),
        speedup_md=fill(paths.REPORT_FILE, file="speedup.md"),
        speedup_tex=fill(paths.REPORT_FILE, file="speedup.tex"),
    log:
        "logs/{exp}/report.log",
    params:
        args=args("report"),
    shell:
        "python -m harness report {input.rows} {params.args} --out-dir reports > {log} 2>&1"
