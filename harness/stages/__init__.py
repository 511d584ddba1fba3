"""One module per `python -m harness` stage, named as the stage is (`train-dot` -> `train_dot.py`).

A stage module holds the stage's help (its docstring and ``EXAMPLES``), its options
(``add_arguments``; shared ones come from :mod:`harness.stages.options`) and ``run(args) -> int``, which
imports the library it calls when it runs, so that `--help` never imports torch. `harness/cli.py`
lists the stages.
"""
