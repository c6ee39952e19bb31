import re

import aiopinecone


def test_version_is_pep440() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", aiopinecone.__version__)


def test_public_surface_is_sorted() -> None:
    assert list(aiopinecone.__all__) == sorted(aiopinecone.__all__)
