"""The rehearsal: any experiment's own plan, run end to end on CPU before anyone spends GPU hours.

`snakemake -j2 reports/speedup_<exp>.pdf --config rehearsal=true` runs every rule the real run has,
in a tree of its own (``rehearsal/``, the Snakefile's ``workdir``), with

- the experiment's real Dash architectures (harness/models/configs) with random weights, written in
  the on-disk form the real run reads, loaded through the same loader code (:mod:`.stand_ins`);
- stand-in inputs made by the harness in the real formats at their registered locations
  (:mod:`harness.external`, each entry's ``stand_in``), by `harness rehearsal-inputs`;
- tiny counts: the one override config/rehearsal.yaml laid over every experiment (:mod:`.settings`).

Every row it writes carries ``rehearsal`` = True (harness/provenance.py, from :data:`ENV`) and every
report page it draws carries :data:`BANNER`.
"""

from __future__ import annotations

import os

ENV = "HARNESS_REHEARSAL"  # set to "true" by the workflow in a rehearsal; every row's `rehearsal` column reads it
TREE = "rehearsal"  # the rehearsal's working directory, relative to the repository
BANNER = "REHEARSAL: random weights and stand-in inputs, not a result"


def active() -> bool:
    """Whether this process runs inside a rehearsal (the workflow exports :data:`ENV`)."""
    return os.environ.get(ENV, "").lower() == "true"
