"""Many rows in one statement whose text does not depend on how many: the billing run's batches.

On PostgreSQL the rows travel as one array per column, in psycopg's binary format (its text
format escapes every element in Python, which cost seven times as much):
`INSERT INTO t (a, b) SELECT * FROM unnest(CAST(%(c0)b AS type[]), CAST(%(c1)b AS type[]))`,
`UPDATE t SET b = v.b FROM unnest(...) AS v(a, b) WHERE t.a = v.a`, and `a = ANY(:values)`
for a set of keys. Why not executemany, multi-row VALUES or IN lists: those render a
placeholder per value (or send a statement per row), so their text changes with the number of
rows; SQLAlchemy compiled, and psycopg parsed, each anew (psycopg caches the conversion of short
queries only), which was a third of the billing run's CPU, and PostgreSQL planned and ran a
statement per row. Here each statement is built once per table and columns, and the server
runs one statement per batch (README, "Performance").

Elsewhere (SQLite, one writer, local): executemany and IN lists, as before.
"""
from __future__ import annotations

import threading
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Connection,
    Table,
    any_,
    bindparam,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

_statements: dict[tuple[Any, ...], str] = {}
_lock = threading.Lock()


def _postgresql(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _arrays(conn: Connection, table: Table, columns: Sequence[str]) -> str:
    """`unnest(CAST(:c0 AS type[]), ...)` for `columns` of `table`."""
    casts = [f"CAST(%(c{i})b AS {table.c[c].type.compile(dialect=conn.dialect)}[])" for i, c in enumerate(columns)]
    return f"unnest({', '.join(casts)})"


def _statement(key: tuple[Any, ...], build: Any) -> str:
    found = _statements.get(key)
    if found is None:
        with _lock:
            found = _statements.setdefault(key, build())
    return found


def _params(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> dict[str, list[Any]]:
    return {f"c{i}": [row[c] for row in rows] for i, c in enumerate(columns)}


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], *,
                skip_conflicts_on: str | None = None, returning: str | None = None) -> list[Any]:
    """Inserts `rows` (each with the same columns). With `skip_conflicts_on`, a row whose value
    of that unique column is taken is left out (ON CONFLICT DO NOTHING); with `returning`, the
    value of that column of each row inserted is answered (else [])."""
    if not rows:
        return []
    columns = tuple(rows[0])
    if _postgresql(conn):
        q = conn.dialect.identifier_preparer.quote

        def build() -> str:
            sql = (f"INSERT INTO {q(table.name)} ({', '.join(q(c) for c in columns)}) "
                   f"SELECT * FROM {_arrays(conn, table, columns)}")
            if skip_conflicts_on:
                sql += f" ON CONFLICT ({q(skip_conflicts_on)}) DO NOTHING"
            return sql + (f" RETURNING {q(returning)}" if returning else "")

        statement = _statement(("insert", table.name, columns, skip_conflicts_on, returning), build)
        result = conn.exec_driver_sql(statement, _params(rows, columns))
        return [row[0] for row in result] if returning else []
    if skip_conflicts_on or returning:
        upsert = sqlite.insert(table) if conn.dialect.name == "sqlite" else postgresql.insert(table)
        query: Any = upsert.values(list(rows))
        if skip_conflicts_on:
            query = query.on_conflict_do_nothing(index_elements=[table.c[skip_conflicts_on]])
        if returning:
            return [row[0] for row in conn.execute(query.returning(table.c[returning]))]
        conn.execute(query)
        return []
    conn.execute(insert(table), list(rows))
    return []


def update_rows(conn: Connection, table: Table, key: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Updates, for each of `rows` (each with the same columns), the row of `table` whose
    `key` column equals its `key` value, setting its other columns."""
    if not rows:
        return
    columns = tuple(rows[0])
    if _postgresql(conn):
        q = conn.dialect.identifier_preparer.quote

        def build() -> str:
            sets = ", ".join(f"{q(c)} = v.{q(c)}" for c in columns if c != key)
            return (f"UPDATE {q(table.name)} AS t SET {sets} FROM {_arrays(conn, table, columns)} "
                    f"AS v({', '.join(q(c) for c in columns)}) WHERE t.{q(key)} = v.{q(key)}")

        conn.exec_driver_sql(_statement(("update", table.name, columns, key), build), _params(rows, columns))
        return
    statement = update(table).where(table.c[key] == bindparam("b_key"))
    conn.execute(statement, [{"b_key": row[key], **{c: row[c] for c in columns if c != key}} for row in rows])


def among(conn: Connection, column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """`column IN values`, as `column = ANY(:array)` on PostgreSQL: one parameter, one text."""
    if _postgresql(conn):
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))  # type: ignore[no-any-return]
    return column.in_(list(values))  # type: ignore[no-any-return]


def pairs_among(conn: Connection, first: Any, second: Any, pairs: Collection[tuple[Any, Any]]
                ) -> ColumnElement[bool]:
    """`(first, second) IN pairs`; on PostgreSQL against `unnest` of two arrays, so an index on
    (first, second) answers each pair (two `= ANY` conditions would probe every combination)."""
    if _postgresql(conn):
        values = func.unnest(bindparam(None, [a for a, _ in pairs], type_=ARRAY(first.type)),
                             bindparam(None, [b for _, b in pairs], type_=ARRAY(second.type))
                             ).table_valued("a", "b").render_derived()
        return tuple_(first, second).in_(select(values.c.a, values.c.b))  # type: ignore[no-any-return]
    return tuple_(first, second).in_(list(pairs))  # type: ignore[no-any-return]
