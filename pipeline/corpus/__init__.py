"""Raw code, mapped to one schema whatever its source.

Every source yields rows ``{"id", "code", "docstring", "language", "source"}`` where ``source`` is
``{"dataset", "repo", "path", "url", "func_name", "license"}`` (None where unknown) and ``id`` is a
stable 16-hex-digit hash of the provenance and the code. Sources:

- ``stdlib``: documented functions of the running interpreter's standard library (offline);
- a folder path: documented functions of a local source tree (Python via ``ast``; Go, Java,
  JavaScript, PHP and Ruby via tree-sitter grammars from PyPI);
- ``hub:<dataset id>``: a Hugging Face dataset, streamed (CodeSearchNet is mapped built in; any
  other through a column mapping). A local dataset folder works the same way.

Skipped files and dropped rows are counted by reason in a `CorpusReport`.
"""

from __future__ import annotations

from pipeline.corpus.report import CorpusReport
from pipeline.corpus.rows import make_row
from pipeline.corpus.sources import iter_corpus, stdlib_root

__all__ = ["CorpusReport", "iter_corpus", "make_row", "stdlib_root"]
