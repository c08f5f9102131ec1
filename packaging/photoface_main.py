"""Entry point of the frozen app (``photoface.spec``): the GUI with no arguments, else the CLI.

``freeze_support`` must run first: a scan's worker processes are started with "spawn", which in
a frozen app re-runs this executable, and this call turns such a run into the worker.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from photoface.cli import main

    sys.exit(main())
