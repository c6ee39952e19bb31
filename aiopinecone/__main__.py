"""``python -m aiopinecone``: the same as the ``aiopinecone`` command."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
