# Batched experiments (`samples.batches` > 0, harness/experiments/batches.py): their shards and metric
# rows are made by a few `harness batch` jobs, one Python start-up each, instead of one job per shard
# (the per-shard rules do not match these experiments: UNBATCHED in common.smk). The jobs are known
# when the workflow is parsed, so each is a rule of its own with its files named.
# Snakemake deletes the declared outputs of a job cut off by a kill before rerunning it; each job keeps
# its finished commands' outputs (hard links) under _job.keep, so the rerun redoes only the commands that
# had not finished (`harness batch --keep`, harness/stages/batch.py).

for _name in WORKFLOW.batched:
    for _job in _checked(WORKFLOW.batch_jobs, _name):

        rule:
            name:
                _job.name
            input:
                _job.inputs,
            output:
                _job.outputs,
            log:
                f"logs/{_name}/{_job.rule}/{_job.name}.log",
            benchmark:
                f"benchmarks/{_name}/{_job.rule}/{_job.name}.tsv"
            params:
                arguments=_job.arguments,
                keep=_job.keep,
                launch=f"{LAUNCH} --gpus 1 --",
            threads: 1
            resources:
                gpu=1,
                mem_mb=WORKFLOW.experiment(_name).memory_mb("batch"),
            shell:
                "{params.launch} -m harness batch --keep {params.keep} --inputs {input} {params.arguments} > {log} 2>&1"
