"""``__version__``, from the installed distribution's metadata.

A module of its own so that the client (its ``User-Agent``) reads it without importing the
package's ``__init__`` back.
"""

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("aiopinecone")
except PackageNotFoundError:  # pragma: no cover - running from a source tree that is not installed
    __version__ = "0.0.0"
