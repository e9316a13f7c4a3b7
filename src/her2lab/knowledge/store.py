"""The knowledge base compiled into an embedded SQLite database, for queries and fast loading.

The database is compiled from a validated :class:`~her2lab.knowledge.schema.KnowledgeBase` on
first use and again whenever the YAML changes: its file name carries the content hash of the
data directory (and of the code that validates it), ``kb-<dir>-<content>.sqlite`` under the
cache directory (``$HER2LAB_CACHE``, default ``~/.cache/her2lab``). A database is written to a
temporary file and moved into place, so a reader never sees half of one.

Tables (one row per record; list fields also joined with ``;`` in their record's row, and
normalised into the link tables that follow it)::

    meta(key, value)                          content_hash, source, cited_on, created, counts
    kb_json(id, json)                         the validated KB as JSON, to rebuild it quickly
    drugs(id, uid, name, drug_class, ...)     drug_aliases(drug_id, alias, norm)
    drug_targets(drug_id, symbol)             drug_components(drug_id, component_id)
    drug_identifiers(drug_id, prefix, identifier)
    targets(symbol, uid, name, hgnc, ...)     mechanisms(id, uid, name, category, ...)
    mechanism_targets(mechanism_id, symbol)   mechanism_drugs(mechanism_id, drug_id)
    biomarkers(id, uid, name, gene, ...)      biomarker_statements(biomarker_id, position, ...)
    trials(id, uid, name, nct, phase, ...)    arms(trial_id, arm_id, label, role, n, ...)
    arm_drugs(trial_id, arm_id, drug_id, position)
    outcomes(trial_id, outcome_id, uid, endpoint, kind, measure, arm, arms, subgroup,
             value, low, high, unit, ci_low, ci_high, ci_level, p_value, p_relation, ...,
             published, published_date, source, locator, refs, citation)
    "references"(number, uid, authors, title, journal, year, ..., earliest, latest)
    conflicts(id, uid, kind, subject, field, resolution, note)
    conflict_values(conflict_id, position, value, outcome, locator, refs, ...)

Numbers are REAL (or INTEGER) columns; dates are ISO ``YYYY-MM-DD`` text. ``references`` is an
SQL keyword: write ``"references"`` in a query, or use the view ``reference_list``.
``outcomes.published_date`` is :meth:`KnowledgeBase.published` (the date by which the figure
was public), ``outcomes.published`` only the date curated on the outcome itself.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from her2lab.errors import OutputError
from her2lab.knowledge.layout import DATA_DIR
from her2lab.knowledge.schema import KnowledgeBase, Provenance, _norm, outcome_key
from her2lab.knowledge.validate import load_directory

__all__ = [
    "STORE_VERSION",
    "cache_dir",
    "compile_kb",
    "connect_readonly",
    "content_hash",
    "db_path",
    "ensure_store",
    "load_or_compile",
    "read_kb",
]

#: Bumped whenever the table layout changes, so old databases are not reused.
STORE_VERSION = "1"

#: The code whose behaviour a compiled database depends on (validation and compiling).
_CODE = [
    *(Path(__file__).parent / n for n in (
        "schema.py", "layout.py", "records.py", "crossref.py", "validate.py", "store.py")),
    Path(__file__).parent.parent / "yamlio.py",
]


def cache_dir() -> Path:
    """Where compiled databases live: ``$HER2LAB_CACHE`` or ``~/.cache/her2lab``.

    The cache is optional: when it cannot be written (read-only, or the variable names a
    file) the database is compiled into a private temporary directory instead.
    """
    env = os.environ.get("HER2LAB_CACHE")
    path = Path(env).expanduser() if env else Path.home() / ".cache" / "her2lab"
    return path.absolute()


def content_hash(data_dir: str | Path) -> str:
    """SHA-256 of every YAML file of a data directory (names and bytes) and of the code that
    validates and compiles them; any change to either gives a new hash."""
    root = Path(data_dir)
    h = hashlib.sha256(f"her2lab-kb-store {STORE_VERSION}\n".encode())
    for path in _CODE:
        with contextlib.suppress(OSError):
            h.update(path.read_bytes())
    files: list[Path] = []
    if root.is_dir():
        for sub in (root, root / "trials"):
            if sub.is_dir():
                files += [p for p in sub.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()]
    for path in sorted(files):
        h.update(b"\0" + path.relative_to(root).as_posix().encode() + b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()


def db_path(data_dir: str | Path, digest: str | None = None) -> Path:
    """The database file for the current content of ``data_dir``."""
    root = Path(data_dir).resolve()
    digest = digest or content_hash(root)
    dir_key = hashlib.sha256(str(root).encode()).hexdigest()[:10]
    return cache_dir() / f"kb-{dir_key}-{digest[:20]}.sqlite"


def ensure_store(data_dir: str | Path | None = None) -> Path:
    """Path of the compiled database of ``data_dir`` (default: the shipped data), compiling it
    first when it is missing or the YAML changed. Raises ValidationError on invalid data."""
    root = Path(data_dir) if data_dir is not None else DATA_DIR
    digest = content_hash(root)
    path = db_path(root, digest)
    if _is_complete(path, digest):
        return path
    private = _private.get((str(root.resolve()), digest))
    if private is not None and _is_complete(private, digest):
        return private
    kb = load_directory(root)
    try:
        return compile_kb(kb, path, digest=digest, source=root)
    except (OSError, sqlite3.Error):
        return _compile_private(kb, root, digest)


#: Databases compiled into a private temporary directory because the cache directory could not
#: be written (read-only, or ``HER2LAB_CACHE`` naming a file): (source, digest) -> path.
_private: dict[tuple[str, str], Path] = {}


def _compile_private(kb: KnowledgeBase, root: Path, digest: str) -> Path:
    """Compile into a temporary directory of this process (removed at exit): the cache is
    then only an optimisation that a read-only or misconfigured cache directory disables."""
    import atexit
    import shutil

    try:
        tmp = Path(tempfile.mkdtemp(prefix="her2lab-kb-"))
    except OSError as exc:
        raise OutputError(
            f"cannot compile the knowledge base: the cache directory {cache_dir()} cannot be "
            f"written and neither can the temporary directory ({exc.strerror or exc}); set "
            "HER2LAB_CACHE to a writable directory") from None
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    path = compile_kb(kb, tmp / "kb.sqlite", digest=digest, source=root)
    _private[(str(root.resolve()), digest)] = path
    return path


def load_or_compile(root: Path, digest: str) -> KnowledgeBase:
    """The KB of ``root`` from its database when that is current, else validated and compiled.

    When the cache directory cannot be written the KB is still returned (uncompiled).
    """
    path = db_path(root, digest)
    try:
        exists = path.is_file()
    except OSError:
        exists = False
    if exists:
        try:
            return read_kb(path, digest)
        except (sqlite3.Error, ValueError, KeyError, OSError):
            pass  # stale or damaged: compile it again
    kb = load_directory(root)
    with contextlib.suppress(OSError, sqlite3.Error):
        compile_kb(kb, path, digest=digest, source=root)
    return kb


def _is_complete(path: Path, digest: str) -> bool:
    try:
        if not path.is_file():
            return False
    except OSError:
        return False
    try:
        con = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            row = con.execute("SELECT value FROM meta WHERE key = 'content_hash'").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return False
    return row is not None and row[0] == digest


def connect_readonly(path: str | Path) -> sqlite3.Connection:
    """A connection that cannot write: opened with ``mode=ro`` and ``query_only``."""
    con = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    con.execute("PRAGMA query_only = ON")
    return con


def read_kb(path: str | Path, digest: str | None = None) -> KnowledgeBase:
    """Rebuild the typed KB from the JSON a database stores (checked against ``digest``)."""
    con = connect_readonly(path)
    try:
        if digest is not None:
            row = con.execute("SELECT value FROM meta WHERE key = 'content_hash'").fetchone()
            if row is None or row[0] != digest:
                raise KeyError("database does not match the data directory")
        (text,) = con.execute("SELECT json FROM kb_json WHERE id = 1").fetchone()
    finally:
        con.close()
    return KnowledgeBase.model_validate_json(text)


# --------------------------------------------------------------------------- compiling

_DDL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE kb_json (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL);
CREATE TABLE drugs (
  id TEXT PRIMARY KEY, uid TEXT NOT NULL, name TEXT NOT NULL, drug_class TEXT NOT NULL,
  targets TEXT, binding_site TEXT, mechanism TEXT, reversibility TEXT, aliases TEXT,
  components TEXT, source TEXT, locator TEXT, refs TEXT, citation TEXT);
CREATE TABLE drug_aliases (drug_id TEXT NOT NULL REFERENCES drugs(id), alias TEXT NOT NULL,
  norm TEXT NOT NULL);
CREATE TABLE drug_targets (drug_id TEXT NOT NULL REFERENCES drugs(id), symbol TEXT NOT NULL);
CREATE TABLE drug_components (drug_id TEXT NOT NULL REFERENCES drugs(id),
  component_id TEXT NOT NULL);
CREATE TABLE drug_identifiers (drug_id TEXT NOT NULL REFERENCES drugs(id), prefix TEXT NOT NULL,
  identifier TEXT NOT NULL);
CREATE TABLE targets (
  symbol TEXT PRIMARY KEY, uid TEXT NOT NULL, name TEXT NOT NULL, hgnc TEXT, aliases TEXT,
  role TEXT, source TEXT, locator TEXT, refs TEXT, citation TEXT);
CREATE TABLE mechanisms (
  id TEXT PRIMARY KEY, uid TEXT NOT NULL, name TEXT NOT NULL, category TEXT, targets TEXT,
  nodes TEXT, effect TEXT, counteracted_by TEXT, source TEXT, locator TEXT, refs TEXT,
  citation TEXT);
CREATE TABLE mechanism_targets (mechanism_id TEXT NOT NULL REFERENCES mechanisms(id),
  symbol TEXT NOT NULL);
CREATE TABLE mechanism_drugs (mechanism_id TEXT NOT NULL REFERENCES mechanisms(id),
  drug_id TEXT NOT NULL);
CREATE TABLE biomarkers (
  id TEXT PRIMARY KEY, uid TEXT NOT NULL, name TEXT NOT NULL, gene TEXT, assay TEXT,
  mechanism_id TEXT, source TEXT, locator TEXT, refs TEXT, citation TEXT);
CREATE TABLE biomarker_statements (
  biomarker_id TEXT NOT NULL REFERENCES biomarkers(id), position INTEGER NOT NULL,
  drug_id TEXT NOT NULL, direction TEXT NOT NULL, outcomes TEXT, source TEXT, locator TEXT,
  refs TEXT, citation TEXT);
CREATE TABLE trials (
  id TEXT PRIMARY KEY, uid TEXT NOT NULL, name TEXT NOT NULL, aliases TEXT, nct TEXT,
  phase TEXT, randomized INTEGER, status TEXT, setting TEXT, setting_raw TEXT,
  prior_trastuzumab INTEGER, line INTEGER, population TEXT, require TEXT,
  primary_endpoint TEXT, design TEXT, n INTEGER, in_table1 INTEGER, drugs_tested TEXT,
  source TEXT, locator TEXT, refs TEXT, citation TEXT);
CREATE TABLE arms (
  trial_id TEXT NOT NULL REFERENCES trials(id), arm_id TEXT NOT NULL, position INTEGER,
  label TEXT, role TEXT, n INTEGER, regimen TEXT, PRIMARY KEY (trial_id, arm_id));
CREATE TABLE arm_drugs (trial_id TEXT NOT NULL, arm_id TEXT NOT NULL, drug_id TEXT NOT NULL,
  position INTEGER);
CREATE TABLE outcomes (
  trial_id TEXT NOT NULL REFERENCES trials(id), outcome_id TEXT NOT NULL, uid TEXT NOT NULL,
  endpoint TEXT, kind TEXT, measure TEXT, arm TEXT, arms TEXT, subgroup TEXT,
  value REAL, low REAL, high REAL, qualifier TEXT, not_reached INTEGER, unit TEXT,
  ci_low REAL, ci_high REAL, ci_level REAL, p_value REAL, p_relation TEXT, p_sided INTEGER,
  timepoint REAL, timepoint_unit TEXT, event TEXT, analysis TEXT, n INTEGER, raw TEXT,
  published TEXT, published_date TEXT, source TEXT, locator TEXT, refs TEXT, citation TEXT,
  note TEXT, PRIMARY KEY (trial_id, outcome_id));
CREATE TABLE "references" (
  number INTEGER PRIMARY KEY, uid TEXT NOT NULL, authors TEXT, et_al INTEGER, title TEXT,
  journal TEXT, year INTEGER, month INTEGER, volume TEXT, pages TEXT, doi TEXT, pmid TEXT,
  earliest TEXT, latest TEXT);
CREATE VIEW reference_list AS SELECT * FROM "references";
CREATE TABLE conflicts (
  id TEXT PRIMARY KEY, uid TEXT NOT NULL, kind TEXT, subject TEXT, field TEXT,
  resolution TEXT, note TEXT);
CREATE TABLE conflict_values (
  conflict_id TEXT NOT NULL REFERENCES conflicts(id), position INTEGER, value TEXT,
  outcome TEXT, source TEXT, locator TEXT, refs TEXT, citation TEXT);
CREATE INDEX arm_drugs_drug ON arm_drugs(drug_id);
CREATE INDEX drug_aliases_norm ON drug_aliases(norm);
CREATE INDEX outcomes_endpoint ON outcomes(endpoint, kind);
"""


def _j(values: list[Any]) -> str:
    return ";".join(str(v) for v in values)


def _prov(p: Provenance) -> tuple[str, str, str, str | None]:
    return (p.source, p.locator, _j(p.refs), p.citation)


def _rows(kb: KnowledgeBase) -> dict[str, list[tuple]]:
    r: dict[str, list[tuple]] = {k: [] for k in (
        "drugs", "drug_aliases", "drug_targets", "drug_components", "drug_identifiers",
        "targets", "mechanisms", "mechanism_targets", "mechanism_drugs", "biomarkers",
        "biomarker_statements", "trials", "arms", "arm_drugs", "outcomes", "references",
        "conflicts", "conflict_values")}
    for d in kb.drugs:
        r["drugs"].append((d.id, d.uid, d.name, d.drug_class.value, _j(d.targets), d.binding_site,
                           _j(d.mechanism), d.reversibility, _j(d.aliases), _j(d.components),
                           *_prov(d.provenance)))
        for alias in [d.id, d.name, *d.aliases]:
            r["drug_aliases"].append((d.id, alias, _norm(alias)))
        r["drug_targets"] += [(d.id, s) for s in d.targets]
        r["drug_components"] += [(d.id, c) for c in d.components]
        r["drug_identifiers"] += [(d.id, k, v) for k, v in d.identifiers.items()]
    for g in kb.targets:
        r["targets"].append((g.symbol, g.uid, g.name, g.hgnc, _j(g.aliases), g.role,
                             *_prov(g.provenance)))
    for m in kb.mechanisms:
        r["mechanisms"].append((m.id, m.uid, m.name, m.category, _j(m.targets), _j(m.nodes),
                                m.effect, _j(m.counteracted_by), *_prov(m.provenance)))
        r["mechanism_targets"] += [(m.id, s) for s in m.targets]
        r["mechanism_drugs"] += [(m.id, d) for d in m.counteracted_by]
    for b in kb.biomarkers:
        r["biomarkers"].append((b.id, b.uid, b.name, b.gene, b.assay, b.mechanism,
                                *_prov(b.provenance)))
        for i, s in enumerate(b.statements):
            r["biomarker_statements"].append((b.id, i, s.drug, s.direction, _j(s.outcomes),
                                              *_prov(s.provenance)))
    for t in kb.trials:
        pop = t.population
        r["trials"].append((
            t.id, t.uid, t.name, _j(t.aliases), t.nct, t.phase, int(t.randomized), t.status,
            t.setting.value, t.setting_raw,
            None if pop.prior_trastuzumab is None else int(pop.prior_trastuzumab), pop.line,
            pop.description, _j(pop.require), t.primary_endpoint and t.primary_endpoint.value,
            t.design, t.n, int(t.in_table1), _j(t.drugs_tested), *_prov(t.provenance)))
        for i, a in enumerate(t.arms):
            r["arms"].append((t.id, a.id, i, a.label, a.role, a.n, _j(a.regimen)))
            r["arm_drugs"] += [(t.id, a.id, d, j) for j, d in enumerate(a.regimen)]
        for o in t.outcomes:
            ci, p, tp = o.ci, o.p, o.timepoint
            r["outcomes"].append((
                t.id, o.id, f"outcome:{outcome_key(t, o)}", o.endpoint.value, o.kind, o.measure,
                o.arm, _j(o.arms), o.subgroup, o.value, o.low, o.high, o.qualifier,
                int(o.not_reached), o.unit,
                ci and ci.low, ci and ci.high, ci and ci.level,
                p and p.value, p and p.relation, p and p.sided,
                tp and tp.value, tp and tp.unit, o.event, o.analysis, o.n, o.raw,
                o.published and o.published.isoformat(), kb.published(t, o).isoformat(),
                *_prov(o.provenance), o.provenance.note))
    for ref in kb.references:
        r["references"].append((
            ref.number, ref.id, _j(ref.authors), int(ref.et_al), ref.title, ref.journal,
            ref.year, ref.month, ref.volume, ref.pages, ref.doi, ref.pmid,
            ref.earliest_date().isoformat(), ref.latest_date(kb.cited_on).isoformat()))
    for c in kb.conflicts:
        r["conflicts"].append((c.id, c.uid, c.kind, c.subject, c.field, c.resolution, c.note))
        for i, v in enumerate(c.values):
            r["conflict_values"].append((c.id, i, v.value, v.outcome, *_prov(v.provenance)))
    return r


def compile_kb(
    kb: KnowledgeBase, path: str | Path, *, digest: str, source: str | Path | None = None
) -> Path:
    """Write ``kb`` into a new SQLite database at ``path`` (atomically replacing any there).

    Older databases compiled from the same source directory are removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = _rows(kb)
    fd, tmp = tempfile.mkstemp(prefix=path.stem + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        con = sqlite3.connect(tmp)
        try:
            # a private temporary file, moved into place only when complete: no journal needed
            con.execute("PRAGMA journal_mode = OFF")
            con.execute("PRAGMA synchronous = OFF")
            con.executescript(_DDL)
            for table, values in rows.items():
                if values:
                    marks = ",".join("?" * len(values[0]))
                    con.executemany(f'INSERT INTO "{table}" VALUES ({marks})', values)
            counts = {t: len(rows[t]) for t in ("drugs", "targets", "mechanisms", "biomarkers",
                                                "trials", "arms", "outcomes", "references",
                                                "conflicts")}
            meta = {
                "content_hash": digest,
                "store_version": STORE_VERSION,
                "source": "" if source is None else str(Path(source).resolve()),
                "cited_on": kb.cited_on.isoformat(),
                "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "counts": json.dumps(counts),
            }
            con.executemany("INSERT INTO meta VALUES (?, ?)", list(meta.items()))
            con.execute("INSERT INTO kb_json VALUES (1, ?)", (kb.model_dump_json(),))
            con.commit()
        finally:
            con.close()
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    prefix = path.name.rsplit("-", 1)[0] + "-"
    for old in path.parent.glob(prefix + "*.sqlite"):
        if old != path:
            with contextlib.suppress(OSError):
                old.unlink()
    return path
