"""Questions people ask of the knowledge base, answered from its SQLite store.

>>> from her2lab.knowledge import query
>>> [t.id for t in query.trials(drug="Herceptin", setting="neoadjuvant")]  # doctest: +SKIP
['neoaltto', 'neosphere', ...]
>>> query.sql("SELECT endpoint, count(*) FROM outcomes GROUP BY endpoint")  # doctest: +SKIP

Every function takes ``data_dir`` (default: the shipped data), loads the knowledge base through
:func:`her2lab.knowledge.load` and queries the database compiled from it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import signal
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from her2lab.errors import DataError, UnknownIdError
from her2lab.knowledge.schema import Drug, KnowledgeBase, Setting, Trial

__all__ = [
    "SQL_MAX_ROWS",
    "SQL_TIMEOUT",
    "QueryError",
    "SqlResult",
    "export_json",
    "outcome_table",
    "sql",
    "trials",
    "trials_using",
]


class QueryError(DataError):
    """An SQL query that is not a read-only SELECT, or that SQLite cannot run."""


@dataclass(frozen=True)
class SqlResult:
    """Column names and rows of a query."""

    columns: list[str]
    rows: list[tuple[Any, ...]]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def _kb_and_db(data_dir: str | Path | None) -> tuple[KnowledgeBase, Path]:
    from her2lab.knowledge import store
    from her2lab.knowledge.load import load

    kb = load(data_dir)
    return kb, store.ensure_store(data_dir)


def _setting_values(setting: str) -> list[str]:
    """A setting by its exact value, or every setting its prefix names (``metastatic``)."""
    values = [s.value for s in Setting]
    key = setting.strip().lower().replace("-", "_").replace(" ", "_")
    if key in values:
        return [key]
    matched = [v for v in values if v.startswith(key + "_")]
    if not matched:
        raise UnknownIdError("setting", setting, values)
    return matched


def _mechanism_trial_ids(con: sqlite3.Connection, mech_id: str) -> set[str]:
    """Trials whose drugs counteract the mechanism, or whose population or subgroups involve it
    (directly or through a biomarker of that mechanism)."""
    rows = con.execute(
        """
        WITH tags(tag) AS (
            SELECT :m UNION SELECT id FROM biomarkers WHERE mechanism_id = :m
        ),
        counter(drug_id) AS (SELECT drug_id FROM mechanism_drugs WHERE mechanism_id = :m)
        SELECT trial_id FROM arm_drugs WHERE drug_id IN (SELECT drug_id FROM counter)
        UNION SELECT t.id FROM trials t, counter c
            WHERE ';' || t.drugs_tested || ';' LIKE '%;' || c.drug_id || ';%'
        UNION SELECT t.id FROM trials t, tags g
            WHERE ';' || t.require || ';' LIKE '%;' || g.tag || ';%'
        UNION SELECT trial_id FROM outcomes WHERE subgroup IN (SELECT tag FROM tags)
        """,
        {"m": mech_id},
    ).fetchall()
    return {r[0] for r in rows}


def _drug_trial_ids(con: sqlite3.Connection, drug: Drug) -> set[str]:
    """Trials with the drug in an arm (itself, or as a component of a regimen drug such as
    FEC), or among the drugs the trial tests."""
    rows = con.execute(
        """
        WITH d(drug_id) AS (
            SELECT :d UNION SELECT drug_id FROM drug_components WHERE component_id = :d
        )
        SELECT trial_id FROM arm_drugs WHERE drug_id IN (SELECT drug_id FROM d)
        UNION SELECT t.id FROM trials t, d
            WHERE ';' || t.drugs_tested || ';' LIKE '%;' || d.drug_id || ';%'
        """,
        {"d": drug.id},
    ).fetchall()
    return {r[0] for r in rows}


def trials(
    *,
    drug: str | None = None,
    setting: str | None = None,
    mechanism: str | None = None,
    data_dir: str | Path | None = None,
    as_of: dt.date | None = None,
) -> list[Trial]:
    """Trials matching every filter given, in the order of the knowledge base.

    ``as_of``: the knowledge base as it stood on that date (:meth:`KnowledgeBase.as_of`):
    trials not yet known are left out, results published later are dropped, and a trial
    known then whose results came later is ``ongoing``.

    ``drug``: an ID, name or alias (``Herceptin``, ``T-DM1``); a trial matches when the drug is
    in any arm or among the drugs it tests. ``setting``: a :class:`Setting` value, or a prefix
    naming several (``metastatic``). ``mechanism``: a mechanism ID or name; a trial matches
    when one of its drugs counteracts the mechanism (``Mechanism.counteracted_by``) or its
    population or a subgroup involves the mechanism or one of its biomarkers. Unknown names
    raise :class:`~her2lab.errors.UnknownIdError` listing the valid ones.
    """
    from her2lab.knowledge.store import connect_readonly

    kb, db = _kb_and_db(data_dir)
    con = connect_readonly(db)
    try:
        keep: set[str] = {t.id for t in kb.trials}
        if drug is not None:
            keep &= _drug_trial_ids(con, kb.drug(drug))
        if setting is not None:
            values = _setting_values(setting)
            marks = ",".join("?" * len(values))
            rows = con.execute(f"SELECT id FROM trials WHERE setting IN ({marks})", values)
            keep &= {r[0] for r in rows}
        if mechanism is not None:
            keep &= _mechanism_trial_ids(con, kb.mechanism(mechanism).id)
    finally:
        con.close()
    return [t for t in kb.as_of(as_of).trials if t.id in keep]


def trials_using(drug: str, *, data_dir: str | Path | None = None) -> list[Trial]:
    """Trials that use ``drug`` (ID, name or alias) in any arm or test it."""
    return trials(drug=drug, data_dir=data_dir)


_COMMENT = re.compile(r"^\s*(--[^\n]*(\n|$)|/\*.*?\*/)", re.S)
_ALLOWED = {
    sqlite3.SQLITE_SELECT,
    sqlite3.SQLITE_READ,
    sqlite3.SQLITE_FUNCTION,
    getattr(sqlite3, "SQLITE_RECURSIVE", 33),
}


def _first_keyword(query: str) -> str:
    text = query
    while True:
        m = _COMMENT.match(text)
        if not m:
            break
        text = text[m.end():]
    word = re.match(r"\s*([A-Za-z]+)", text)
    return word.group(1).upper() if word else ""


def _authorize(action: int, *_: Any) -> int:
    return sqlite3.SQLITE_OK if action in _ALLOWED else sqlite3.SQLITE_DENY


#: Default time limit of :func:`sql` (seconds) and the most rows it returns.
SQL_TIMEOUT = 10.0
SQL_MAX_ROWS = 100_000


def sql(
    query: str, params: Any = (), *, data_dir: str | Path | None = None,
    timeout: float | None = SQL_TIMEOUT, max_rows: int = SQL_MAX_ROWS,
) -> SqlResult:
    """Run one read-only ``SELECT`` (or ``WITH ... SELECT``) on the compiled knowledge base.

    The database is opened read-only (``mode=ro``, ``query_only``) and an authorizer refuses
    anything but reading; any other statement raises :class:`QueryError` before it runs.
    A query that runs longer than ``timeout`` seconds (None: no limit) or returns more than
    ``max_rows`` rows is stopped with a :class:`QueryError`; Ctrl-C stops it too (a
    ``KeyboardInterrupt``), also inside a recursive CTE that never ends. Tables are listed in
    :mod:`her2lab.knowledge.store`.
    """
    from her2lab.knowledge.store import connect_readonly

    keyword = _first_keyword(query)
    if keyword not in ("SELECT", "WITH"):
        raise QueryError(
            "only read-only queries are allowed: the statement must start with SELECT or "
            f"WITH; got {keyword or 'an empty statement'!r}"
        )
    _, db = _kb_and_db(data_dir)
    con = connect_readonly(db)
    stop = _Stop(timeout)
    try:
        con.set_authorizer(_authorize)
        con.set_progress_handler(stop, 10_000)
        try:
            with stop.catch_interrupt():
                cur = con.execute(query, params)
                rows = cur.fetchmany(max_rows + 1)
        except sqlite3.DatabaseError as exc:  # includes "not authorized" and syntax errors
            if stop.reason == "interrupt":
                raise KeyboardInterrupt from None
            if stop.reason == "timeout":
                raise QueryError(f"the query ran longer than its time limit of {timeout:g} s "
                                 "and was stopped") from None
            msg = str(exc)
            if "not authorized" in msg or "readonly" in msg:
                msg = "only read-only queries are allowed (the statement tried to write)"
            raise QueryError(f"the query failed: {msg}") from None
        except sqlite3.Warning as exc:  # "You can only execute one statement at a time."
            raise QueryError(f"the query failed: {exc}") from None
        if len(rows) > max_rows:
            raise QueryError(f"the query returned more than {max_rows} rows; add a LIMIT")
        columns = [d[0] for d in cur.description or []]
    finally:
        con.close()
    return SqlResult(columns, [tuple(r) for r in rows])


class _Stop:
    """SQLite progress handler: stops a query past its deadline or after Ctrl-C."""

    def __init__(self, timeout: float | None) -> None:
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.reason: str | None = None

    def __call__(self) -> int:
        if self.reason is None and self.deadline is not None and time.monotonic() > self.deadline:
            self.reason = "timeout"
        return 1 if self.reason else 0

    @contextlib.contextmanager
    def catch_interrupt(self):
        """While the query runs, Ctrl-C asks the progress handler to stop it (SQLite would
        otherwise swallow the KeyboardInterrupt raised inside its callback)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def on_sigint(signum, frame) -> None:
            self.reason = "interrupt"

        old = signal.signal(signal.SIGINT, on_sigint)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, old)
        if self.reason == "interrupt":
            raise KeyboardInterrupt


def export_json(kb: KnowledgeBase) -> dict[str, Any]:
    """The whole knowledge base as plain JSON data: keys ``drugs``, ``targets``,
    ``mechanisms``, ``biomarkers``, ``trials`` (each with its ``arms`` and ``outcomes``, numbers
    as numbers), ``references``, ``conflicts`` and ``cited_on``.

    ``KnowledgeBase.model_validate(export_json(kb)) == kb``: the export reads back.
    """
    return kb.model_dump(mode="json")


_OUTCOME_TABLE = """
SELECT o.trial_id, t.name AS trial_name, t.nct, t.phase, t.setting, t.in_table1,
       o.outcome_id, o.uid, o.endpoint, o.kind, o.measure, o.arm, a.label AS arm_label,
       a.regimen AS arm_regimen, o.arms, o.subgroup, o.value, o.low, o.high, o.qualifier,
       o.not_reached, o.unit, o.ci_low, o.ci_high, o.ci_level, o.p_value, o.p_relation,
       o.p_sided, o.timepoint, o.timepoint_unit, o.event, o.analysis, o.n, o.raw,
       o.published, o.published_date, o.source, o.locator, o.refs, o.citation, o.note
FROM outcomes o
JOIN trials t ON t.id = o.trial_id
LEFT JOIN arms a ON a.trial_id = o.trial_id AND a.arm_id = o.arm
ORDER BY t.rowid, o.rowid
"""


def outcome_table(*, data_dir: str | Path | None = None) -> SqlResult:
    """One row per outcome with its trial's columns and its provenance (the CSV export).

    List fields (``arms``, ``arm_regimen``, ``refs``) are joined with ``;``.
    """
    return sql(_OUTCOME_TABLE, data_dir=data_dir)
