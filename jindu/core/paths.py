"""Materialized org paths and the one indexed "this unit and everything below" query.

A path is the chain of unit ids from the root, delimited and terminated by
``/`` (``/1/7/42/``). ``field__subtree=path`` selects a unit's whole subtree:
on SQLite it becomes a range over the binary-collated index; on PostgreSQL a
``LIKE 'prefix%'`` that the ``varchar_pattern_ops`` index serves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models
from django.db.backends.ddl_references import Statement
from django.db.models import Lookup


class OrgPathField(models.CharField):
    description = "Materialized org-unit path"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 255)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("max_length") == 255:
            del kwargs["max_length"]
        return name, path, args, kwargs


def upper_bound(prefix: str) -> str:
    """The smallest string greater than every string that starts with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


@OrgPathField.register_lookup
class Subtree(Lookup):
    lookup_name = "subtree"
    prepare_rhs = False

    def _prefix(self) -> str:
        prefix = str(self.rhs)
        if not prefix.startswith("/") or not prefix.endswith("/"):
            raise ValueError(f"not an org path: {prefix!r}")
        return prefix

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        prefix = self._prefix()
        return f"({lhs} >= %s AND {lhs} < %s)", [*lhs_params, prefix, upper_bound(prefix)]

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        escaped = self._prefix().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return f"{lhs} LIKE %s", [*lhs_params, escaped + "%"]


def ancestor_paths(path: str) -> list[str]:
    """Every path from the root down to ``path`` itself (``/1/7/`` → ``/1/``, ``/1/7/``)."""
    parts = [p for p in path.strip("/").split("/") if p]
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]


def common_ancestor(paths: Sequence[str]) -> str:
    """The deepest path holding every one of ``paths`` ("/" when they share none)."""
    parts = [p.strip("/").split("/") for p in paths]
    shared: list[str] = []
    for level in zip(*parts, strict=False):
        if any(part != level[0] for part in level):
            break
        shared.append(level[0])
    return "/" + "".join(f"{part}/" for part in shared)


class PostgresOnlyIndex(models.Index):
    """An index only PostgreSQL needs: on SQLite it is made sure to be absent.

    A subtree query reads a path index with ``LIKE '/1/7/%'``, which PostgreSQL
    serves only from an index of ``varchar_pattern_ops`` (unless the database's
    collation is C); a table whose keyset index starts with the path needs it
    beside that index. On SQLite both would hold the same entries in the same
    order (every SQLite index ends with the row's key), so there the keyset index
    serves the subtree and the copy would only cost each insert.
    """

    def _absent(self, schema_editor: Any) -> Statement:
        return Statement("DROP INDEX IF EXISTS %(name)s", name=schema_editor.quote_name(self.name))

    def create_sql(self, model: Any, schema_editor: Any, using: str = "", **kwargs: Any) -> Any:
        if schema_editor.connection.vendor != "postgresql":
            return self._absent(schema_editor)
        return super().create_sql(model, schema_editor, using=using, **kwargs)

    def remove_sql(self, model: Any, schema_editor: Any, **kwargs: Any) -> Any:
        if schema_editor.connection.vendor != "postgresql":
            return self._absent(schema_editor)
        return super().remove_sql(model, schema_editor, **kwargs)


def path_index(model_name: str, field: str = "org_path", *, keyset: bool = False) -> models.Index:
    """An index that serves subtree queries on both databases.

    ``keyset``: the table also has an index on (path, id), which serves them on
    SQLite (``PostgresOnlyIndex``)."""
    kind = PostgresOnlyIndex if keyset else models.Index
    return kind(
        fields=[field], name=f"{model_name}_{field}_idx"[:30], opclasses=["varchar_pattern_ops"]
    )
