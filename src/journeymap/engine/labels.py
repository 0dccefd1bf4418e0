"""Small constant tables — a map's stages, a funnel's steps — built in the query.

``ibis.memtable`` loads pandas (0.3 s of start-up) even for an Arrow table; a table of
positions and labels is just as easily ``UNNEST(RANGE(n))`` with a ``CASE`` per
position, which every backend compiles and which needs no upload.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir


def labelled_positions(labels: Sequence[str], *, index: str = "index", label: str = "label",
                       index_type: str = "int64") -> ir.Table:
    """A table of ``len(labels)`` rows: ``index`` (0, 1, ...) and its ``label``."""
    if not labels:
        raise ValueError("labelled_positions needs at least one label")
    pos = ibis.range(len(labels)).unnest().name("_pos").as_table()
    return pos.select(**{
        index: pos._pos.cast(index_type),
        label: pos._pos.cases(*enumerate(labels), else_=None).cast("string"),
    })
