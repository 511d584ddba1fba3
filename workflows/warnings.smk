# Warnings with teeth: every `warning: ...` line a job of this run wrote to its log (a measured N far from
# the planning N, a Morse point far from its budget, a metric on fewer images than it can support) is
# repeated on the console when the run ends, with the log that holds it, so none stays buried in logs/.

import time

from harness.warnings_digest import run_warnings

_RUN_STARTED = time.time()


onsuccess:
    run_warnings(since=_RUN_STARTED)


onerror:
    run_warnings(since=_RUN_STARTED)
