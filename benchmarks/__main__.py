"""``python -m benchmarks``: run the suite (see ``benchmarks/_suite.py`` and ``--help``)."""

from __future__ import annotations

from ._suite import main

if __name__ == "__main__":
    raise SystemExit(main())
