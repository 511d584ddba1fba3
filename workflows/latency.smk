# Latency: seconds per step of Dash and of Dot, N = Dash / Dot (Table 5). The job runs alone: it
# takes every core Snakemake was given (so nothing else runs beside it, which keeps CPU timings
# and GPU launch overheads clean), and on a GPU box launch.py gives it a GPU of its own (the SLURM
# profile asks for an exclusive node). A config with `latency.N` skips it.


rule latency:
    input:
        lambda wc: dash_inputs(wc.exp),
    output:
        directory("work/{exp}/latency"),
    log:
        "logs/{exp}/latency.log",
    params:
        dash=lambda wc: latency_dash_args(wc.exp),
        dot=latency_dot_config,
        options=lambda wc: latency_options(wc.exp),
        launch=f"{LAUNCH} --gpus 1 --exclusive --",
        threads=lambda wc, threads: latency_settings(wc.exp).get("threads", threads),
    threads: lambda wildcards: workflow.cores  # all of them: nothing runs beside a timing (read when jobs are made)
    resources:
        gpu=1,
    shell:
        "{params.launch} -m harness latency {params.dash} --experiment {wildcards.exp} --dot-config {params.dot}"
        " {params.options} --threads {params.threads} --results-dir {output} > {log} 2>&1"
