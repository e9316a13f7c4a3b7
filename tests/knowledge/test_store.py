"""The SQLite store: compiled on first use, rebuilt when the YAML changes, read-only to users."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from her2lab.knowledge import KnowledgeBase, load, store

MINIMAL = Path(__file__).parent.parent / "data" / "kb_minimal"

TABLES = {
    "meta", "kb_json", "drugs", "drug_aliases", "drug_targets", "drug_components",
    "drug_identifiers", "targets", "mechanisms", "mechanism_targets", "mechanism_drugs",
    "biomarkers", "biomarker_statements", "trials", "arms", "arm_drugs", "outcomes",
    "references", "conflicts", "conflict_values",
}


@pytest.fixture
def db(minimal_kb: KnowledgeBase, tmp_path: Path) -> sqlite3.Connection:
    path = store.compile_kb(minimal_kb, tmp_path / "kb.sqlite", digest="test")
    con = sqlite3.connect(path)
    yield con
    con.close()


def test_the_database_has_every_table(db: sqlite3.Connection):
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert names == TABLES


def test_each_record_becomes_one_row(db: sqlite3.Connection, minimal_kb: KnowledgeBase):
    def count(table: str) -> int:
        return db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]

    assert count("drugs") == len(minimal_kb.drugs)
    assert count("trials") == len(minimal_kb.trials)
    assert count("arms") == sum(len(t.arms) for t in minimal_kb.trials)
    assert count("outcomes") == sum(len(t.outcomes) for t in minimal_kb.trials)
    assert count("references") == len(minimal_kb.references)
    assert count("conflict_values") == 2
    assert count("arm_drugs") == sum(len(a.regimen) for t in minimal_kb.trials for a in t.arms)


def test_outcome_numbers_are_real_columns(db: sqlite3.Connection):
    row = db.execute(
        "SELECT value, ci_low, ci_high, ci_level, p_value, p_relation, typeof(value), "
        "typeof(ci_low), typeof(p_value), published_date, locator, refs "
        "FROM outcomes WHERE trial_id = 'cleopatra' AND outcome_id = 'pfs_hr'"
    ).fetchone()
    assert row == (0.62, 0.51, 0.75, 0.95, 0.001, "<", "real", "real", "real", "2012-01-31",
                   "Table 1: CLEOPATRA", "1")


def test_aliases_are_normalized_for_lookup(db: sqlite3.Connection):
    rows = db.execute("SELECT drug_id FROM drug_aliases WHERE norm = 'rhumab2c4'").fetchall()
    assert rows == [("pertuzumab",)]


def test_references_can_be_queried_through_a_view(db: sqlite3.Connection):
    rows = db.execute("SELECT number, year, latest FROM reference_list ORDER BY number").fetchall()
    assert rows[0] == (1, 2012, "2012-01-31")


def test_the_stored_json_rebuilds_the_same_knowledge_base(minimal_kb, tmp_path: Path):
    path = store.compile_kb(minimal_kb, tmp_path / "kb.sqlite", digest="abc")
    assert store.read_kb(path, "abc").model_dump() == minimal_kb.model_dump()
    with pytest.raises(KeyError):
        store.read_kb(path, "another digest")


def test_meta_records_hash_source_and_counts(minimal_kb, tmp_path: Path):
    path = store.compile_kb(minimal_kb, tmp_path / "kb.sqlite", digest="abc", source=MINIMAL)
    meta = dict(sqlite3.connect(path).execute("SELECT key, value FROM meta").fetchall())
    assert meta["content_hash"] == "abc"
    assert meta["source"] == str(MINIMAL.resolve())
    assert json.loads(meta["counts"])["trials"] == 3


def test_the_database_is_compiled_on_first_use(minimal_copy: Path, empty_cache: Path):
    load(minimal_copy)
    (db,) = empty_cache.glob("kb-*.sqlite")
    assert db == store.db_path(minimal_copy)


def test_a_change_to_the_yaml_compiles_a_new_database_and_drops_the_old(
    minimal_copy: Path, empty_cache: Path
):
    first = store.ensure_store(minimal_copy)
    path = minimal_copy / "trials" / "neosphere.yaml"
    path.write_text(path.read_text().replace("value: 29.0", "value: 29.5"))
    second = store.ensure_store(minimal_copy)
    assert second != first
    assert list(empty_cache.glob("kb-*.sqlite")) == [second]
    value = sqlite3.connect(second).execute(
        "SELECT value FROM outcomes WHERE outcome_id = 'pcr_th'").fetchone()[0]
    assert value == 29.5


def test_an_unchanged_directory_reuses_its_database(minimal_copy: Path, empty_cache: Path):
    first = store.ensure_store(minimal_copy)
    mtime = first.stat().st_mtime_ns
    assert store.ensure_store(minimal_copy) == first
    assert first.stat().st_mtime_ns == mtime


def test_the_content_hash_ignores_files_that_are_not_yaml(minimal_copy: Path):
    before = store.content_hash(minimal_copy)
    (minimal_copy / "NOTES.txt").write_text("not data")
    assert store.content_hash(minimal_copy) == before
    (minimal_copy / "trials" / "cleopatra.yaml").write_text(
        (minimal_copy / "trials" / "cleopatra.yaml").read_text() + "\n")
    assert store.content_hash(minimal_copy) != before


def test_a_damaged_database_is_compiled_again(minimal_copy: Path, empty_cache: Path):
    path = store.ensure_store(minimal_copy)
    path.write_bytes(b"not a database")
    kb = store.load_or_compile(minimal_copy, store.content_hash(minimal_copy))
    assert len(kb.trials) == 3
    assert store.read_kb(path).model_dump() == kb.model_dump()


def test_a_read_only_connection_cannot_write(minimal_copy: Path):
    con = store.connect_readonly(store.ensure_store(minimal_copy))
    with pytest.raises(sqlite3.OperationalError):
        con.execute("DELETE FROM drugs")
    con.close()


def test_the_cache_directory_follows_the_environment(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("HER2LAB_CACHE", str(tmp_path / "x"))
    assert store.cache_dir() == tmp_path / "x"
    monkeypatch.delenv("HER2LAB_CACHE")
    assert store.cache_dir() == Path.home() / ".cache" / "her2lab"
