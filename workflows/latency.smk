# Latency: seconds per step of Dash and of Dot, N = Dash / Dot (Table 5), one job per cost of a Dot
# step, named by its first Dot (Experiment.latency_timings: one Dash and classifier scale, one Dot
# architecture; ADM-G beside ADM, the independent beside the shared Dot). The job runs alone: it takes
# every core Snakemake was given (so nothing else runs beside it, which keeps CPU timings and GPU
# launch overheads clean), and on a GPU box launch.py gives it a GPU of its own (the SLURM profile asks
# for an exclusive node). A config with `latency.N` skips it.


rule latency:
    input:
        lambda wc: E(wc).dash_inputs(E(wc).latency_timings[wc.dot].series),
    output:
        directory(paths.LATENCY_TIMING),
    log:
        "logs/{exp}/latency/{dot}.log",
    benchmark:
        "benchmarks/{exp}/latency/{dot}.tsv"
    params:
        args=args("latency"),
        launch=f"{LAUNCH} --gpus 1 --",
        threads=lambda wc, threads: E(wc).latency.get("threads", threads),
    threads: all_cores  # all of them: nothing runs beside a timing
    resources:
        gpu=1,
        mem_mb=memory("latency"),
    shell:
        "{params.launch} -m harness latency {params.args} --threads {params.threads} > {log} 2>&1"
