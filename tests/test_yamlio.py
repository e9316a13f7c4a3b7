"""The shared YAML reader: hostile files end in one located problem, quickly."""

from __future__ import annotations

import ast
import time
from pathlib import Path

import pydantic
import pytest
from pydantic import BaseModel, ConfigDict, model_validator

from her2lab.errors import ValidationError
from her2lab.yamlio import (
    MAX_DEPTH,
    field_error,
    read_model_file,
    read_yaml_document,
)

SRC = Path(__file__).resolve().parent.parent / "src" / "her2lab"

# The "billion laughs" of YAML: 9 ** 7 = 4.8 million strings from under 300 bytes.
BOMB = "".join(
    f"{k}: &{k} [{','.join([f'*{p}'] * 9) if p else ','.join(['lol'] * 9)}]\n"
    for p, k in zip(["", *"abcdef"], "abcdefg", strict=True)
)


def _problems(tmp_path: Path, text: str | bytes, name: str = "f.yaml"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    problems: list = []
    start = time.perf_counter()
    doc = read_yaml_document(path, None, problems)
    return doc, problems, time.perf_counter() - start


def test_the_alias_bomb_is_refused_before_it_expands(tmp_path: Path):
    assert len(BOMB) < 300
    doc, (p,), seconds = _problems(tmp_path, BOMB)
    assert doc is None
    assert "alias bomb" in p.found and p.file.endswith("f.yaml") and p.line == 7
    # generous for a shared machine; expanding the bomb takes minutes and gigabytes
    assert seconds < 5


def test_a_moderate_use_of_aliases_is_read(tmp_path: Path):
    doc, problems, _ = _problems(tmp_path, "a: &a [1, 2]\nb: [*a, *a]\n")
    assert problems == [] and doc.data == {"a": [1, 2], "b": [[1, 2], [1, 2]]}


def test_a_recursive_alias_is_a_problem(tmp_path: Path):
    _, (p,), _ = _problems(tmp_path, "a: &x\n  b: *x\n")
    assert p.found == "a recursive alias"


@pytest.mark.parametrize("text", ["[" * 5000 + "]" * 5000, "a:\n" + "".join(
    "  " * i + "- \n" for i in range(1, MAX_DEPTH + 20)) + "  " * (MAX_DEPTH + 20) + "- 1\n"])
def test_deep_nesting_is_a_problem_not_a_crash(tmp_path: Path, text: str):
    doc, problems, _ = _problems(tmp_path, text)
    assert doc is None and len(problems) == 1
    assert "nest" in problems[0].expected + problems[0].found


@pytest.mark.parametrize(("data", "found"), [
    (b"\xff\xfe\x00b\x00i\x00n", "not UTF-8"),
    (b"name: x\n\x00\x01\x02", "NUL byte"),
])
def test_binary_files_are_a_problem(tmp_path: Path, data: bytes, found: str):
    _, (p,), _ = _problems(tmp_path, data)
    assert found in p.found and p.expected == "UTF-8 text"


def test_an_impossible_date_is_located(tmp_path: Path):
    _, (p,), _ = _problems(tmp_path, "name: x\npublished: 2020-13-01\n")
    assert (p.line, p.expected) == (2, "a valid date (YYYY-MM-DD)")
    assert "2020-13-01" in p.found and "month" in p.found


def test_a_directory_or_a_missing_file_is_a_problem(tmp_path: Path):
    for path, found in ((tmp_path, "a directory"), (tmp_path / "none.yaml", "no such file")):
        problems: list = []
        assert read_yaml_document(path, None, problems) is None
        assert [(p.file, p.found) for p in problems] == [(str(path), found)]


def test_without_a_problem_list_problems_are_raised(tmp_path: Path):
    path = tmp_path / "dup.yaml"
    path.write_text("a: 1\nb: 2\na: 3\n")
    with pytest.raises(ValidationError) as info:
        read_yaml_document(path)
    (p,) = info.value.problems
    assert (p.field, p.line, p.found) == ("a", 3, "'a' again (first at line 1)")


class _Range(BaseModel):
    model_config = ConfigDict(extra="forbid")
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> _Range:
        if self.low > self.high:
            raise field_error("high", "a high end at or above low", str(self.high))
        return self


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ranges: list[_Range]


def test_field_errors_point_at_their_field_through_pydantics_structured_errors(tmp_path: Path):
    path = tmp_path / "r.yaml"
    path.write_text("ranges:\n  - low: 1\n    high: 2\n  - low: 5\n    high: 3\n")
    with pytest.raises(ValidationError) as info:
        read_model_file(path, _File)
    (p,) = info.value.problems
    assert (p.field, p.line, p.expected, p.found) == (
        "ranges[1].high", 5, "a high end at or above low", "3.0")


def test_an_empty_model_file_is_a_problem(tmp_path: Path):
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing\n")
    with pytest.raises(ValidationError, match="an empty file"):
        read_model_file(path, _File)


def test_a_plain_value_error_keeps_pydantics_message(tmp_path: Path):
    class M(BaseModel):
        x: int

        @model_validator(mode="after")
        def _odd(self) -> M:
            if self.x % 2 == 0:
                raise ValueError("an odd x")
            return self

    path = tmp_path / "m.yaml"
    path.write_text("x: 4\n")
    with pytest.raises(ValidationError) as info:
        read_model_file(path, M)
    (p,) = info.value.problems
    assert (p.field, p.expected, p.found) == ("(document)", "an odd x",
                                              "a mapping that breaks this rule")
    assert isinstance(pydantic.ValidationError, type)


def _imports(module: Path) -> set[str]:
    tree = ast.parse(module.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_the_store_does_not_import_the_loader_that_imports_it():
    store = _imports(SRC / "knowledge" / "store.py")
    assert not {n for n in store if n.startswith("her2lab.knowledge.load")}
    for name in ("layout", "records", "crossref", "validate"):
        assert not {n for n in _imports(SRC / "knowledge" / f"{name}.py")
                    if n.startswith(("her2lab.knowledge.load", "her2lab.knowledge.store"))}


def test_no_module_parses_validator_messages_with_regular_expressions():
    assert "re" not in _imports(SRC / "yamlio.py")
    for module in (SRC / "knowledge").glob("*.py"):
        assert "_MESSAGE_FIELDS" not in module.read_text(), module


def test_a_key_with_brackets_is_reported_as_written(tmp_path: Path):
    """Found by fuzzing: pydantic's own location tags contain brackets, a person's keys may."""
    path = tmp_path / "r.yaml"
    path.write_text("ranges:\n  - low: 1\n    high[x]: 2\n")
    with pytest.raises(ValidationError) as info:
        read_model_file(path, _File)
    fields = {(p.field, p.line) for p in info.value.problems}
    assert fields == {("ranges[0].high", 2), ("ranges[0].high[x]", 3)}
