"""The CLI's one error path, atomic outputs, the complete-run manifest, the optional cache.

The hostile cases through subprocesses are in ``test_hostile_inputs.py``; these tests drive
the pieces in-process where a subprocess cannot (an unexpected exception, Ctrl-C, a failing
rename) and pin the dependency ranges the CLI's behaviour depends on.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import signal
import threading
import time
import tomllib
from pathlib import Path

import pytest
import typer

import her2lab.cli as cli
from her2lab.atomic import atomic_write_text
from her2lab.errors import OutputError, SimulationError
from her2lab.reproduce import FunctionStage, StageResult

ROOT = Path(__file__).resolve().parent.parent


def _main(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        cli.main(list(argv))
        raise SystemExit(0)
    out, err = capsys.readouterr()
    return info.value.code, out, err


@pytest.fixture
def boom(monkeypatch):
    """``her2lab kb audit`` raising a bug (a ZeroDivisionError) or an her2lab error."""
    import her2lab.knowledge.audit as audit

    def make(exc: BaseException):
        def fail(_kb):
            raise exc

        monkeypatch.setattr(audit, "run_audit", fail)

    return make


def test_a_bug_is_one_line_with_exit_70_and_no_traceback(capsys, boom, monkeypatch):
    monkeypatch.delenv("HER2LAB_DEBUG", raising=False)
    boom(ZeroDivisionError("division by zero"))
    code, _, err = _main(capsys, "kb", "audit")
    assert code == cli.EXIT_INTERNAL == 70
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "ZeroDivisionError: division by zero" in err and "--debug" in err


@pytest.mark.parametrize("how", ["--debug", "HER2LAB_DEBUG"])
def test_debug_shows_the_traceback(capsys, boom, monkeypatch, how):
    boom(ZeroDivisionError("division by zero"))
    if how == "HER2LAB_DEBUG":
        monkeypatch.setenv("HER2LAB_DEBUG", "1")
        argv = ["kb", "audit"]
    else:
        monkeypatch.delenv("HER2LAB_DEBUG", raising=False)
        argv = ["kb", "audit", "--debug"]  # accepted after the command too
    code, _, err = _main(capsys, *argv)
    assert code == 70 and "Traceback (most recent call last)" in err


def test_an_her2lab_error_is_plain_text_with_exit_2(capsys, boom):
    boom(SimulationError("model[draft].bnet: [bold]not[/bold] markup\nsecond line"))
    code, out, err = _main(capsys, "kb", "audit")
    assert code == cli.EXIT_ERROR == 2 and out == ""
    assert err == "error: model[draft].bnet: [bold]not[/bold] markup\nsecond line\n"


def test_ctrl_c_is_exit_130(capsys, boom):
    boom(KeyboardInterrupt())
    code, _, err = _main(capsys, "kb", "audit")
    assert code == 130 and err.strip() == "her2lab: interrupted"


class _FakeClickException(Exception):
    """Stands for the ClickException of a click that typer does not ship."""

    exit_code = 1

    def format_message(self) -> str:
        return str(self)


class UsageError(_FakeClickException):
    exit_code = 2


def test_usage_errors_are_recognised_whatever_click_they_come_from():
    # the classes are recognised by name, so a vendored click and click itself both work
    ClickException = type("ClickException", (Exception,), {"format_message": lambda s: "m"})
    Usage = type("UsageError", (ClickException,), {})
    assert cli._click_error(Usage()) == "usage"
    assert cli._click_error(ClickException()) == "click"
    assert cli._click_error(ValueError()) is None
    bad = typer.BadParameter("x")
    assert cli._click_error(bad) == "usage"


def test_the_exit_codes_are_documented_in_the_help(capsys):
    code, out, err = _main(capsys, "--help")
    assert code == 0
    text = re.sub(r"\s+", " ", out + err)
    for words in ("0 success", "64 a usage error", "70 an internal error", "130 interrupted"):
        assert words in text, words


def test_dependency_ranges_are_pinned_and_met():
    """The error path relies on how typer (and the click it uses) and rich behave: their ranges
    are pinned with an upper bound, and the installed versions lie inside them."""
    from packaging.requirements import Requirement

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    reqs = {Requirement(d).name: Requirement(d) for d in deps}
    for name in ("typer", "rich"):
        spec = reqs[name].specifier
        assert any(s.operator == "<" for s in spec), f"{name} needs an upper bound: {spec}"
        assert spec.contains(importlib.metadata.version(name)), name


def test_bad_parameter_is_public_in_typer():
    assert issubclass(typer.BadParameter, Exception)
    assert cli._click_error(typer.BadParameter("x")) == "usage"


# --------------------------------------------------------------------------- kb sql


def test_ctrl_c_stops_a_query_that_never_ends(minimal_kb_dir):
    from her2lab.knowledge import query

    endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c"
    query.sql("SELECT 1", data_dir=minimal_kb_dir)  # compiled before the clock starts
    # Python's own Ctrl-C handler, as in a terminal, even where the test runner was started in
    # the background with SIGINT ignored (then the signal would never arrive and the query hang)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            query.sql(endless, data_dir=minimal_kb_dir, timeout=None)
        assert time.monotonic() - start < 10
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)


@pytest.fixture
def minimal_kb_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("HER2LAB_CACHE", str(tmp_path / "cache"))
    return ROOT / "tests" / "data" / "kb_minimal"


def test_a_cache_that_cannot_be_written_is_only_slower(minimal_kb_dir, monkeypatch, tmp_path):
    from her2lab.knowledge import query, store

    real = store.compile_kb

    def refuse_the_cache(kb, path, **kw):
        if Path(path).parent == store.cache_dir():
            raise PermissionError(13, "Permission denied", str(path))
        return real(kb, path, **kw)

    monkeypatch.setattr(store, "compile_kb", refuse_the_cache)
    res = query.sql("SELECT count(*) FROM trials", data_dir=minimal_kb_dir)
    assert res.rows == [(3,)]
    assert not list((tmp_path / "cache").glob("*.sqlite"))


# --------------------------------------------------------------------------- outputs


def test_an_atomic_write_that_fails_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "table.csv"
    path.write_text("old\n")

    def fail(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OutputError, match="No space left"):
        atomic_write_text(path, "new\n")
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]


def _stages(fail: bool):
    def first(ctx):
        f = ctx.out_dir / "first" / "a.txt"
        atomic_write_text(f, "a\n")
        return StageResult([("a", "1")], [f])

    def second(ctx):
        if fail:
            raise SimulationError("the second stage failed")
        f = ctx.out_dir / "b.txt"
        atomic_write_text(f, "b\n")
        return StageResult([("b", "2")], [f])

    return [FunctionStage("first", "First", first), FunctionStage("second", "Second", second)]


def test_reproduce_marks_out_complete_only_when_every_stage_finished(capsys, tmp_path,
                                                                     monkeypatch):
    import her2lab.cli.reproduce as rep

    out = tmp_path / "out"
    monkeypatch.setattr(rep, "load_stages", lambda: _stages(fail=False))
    code, _, _ = _main(capsys, "reproduce", "-o", str(out), "--seed", "7")
    assert code == 0
    manifest = json.loads((out / "MANIFEST.json").read_text())
    assert manifest["complete"] is True and manifest["seed"] == 7
    assert set(manifest["files"]) == {"first/a.txt", "b.txt"}
    assert manifest["stages"] == ["first", "second"]

    # a run that fails half-way leaves the directory without a manifest
    monkeypatch.setattr(rep, "load_stages", lambda: _stages(fail=True))
    code, _, err = _main(capsys, "reproduce", "-o", str(out))
    assert code == 2 and "the second stage failed" in err
    assert not (out / "MANIFEST.json").exists()


# --------------------------------------------------------------------------- issue 25


def test_a_console_never_reads_markup_nor_writes_escapes_to_a_pipe(capsys):
    """Names such as ``[/bold]`` or ``[red]B`` print as themselves (rich would raise a
    MarkupError or drop the tag), and an ESC in a name shows as ``\\x1b`` on a pipe."""
    from rich.table import Table

    from her2lab.cli._io import console

    t = Table(title="[/bold] title")
    t.add_column("[red]B")
    t.add_row("[/]", "\x1b[31mred :x:")
    console().print(t)
    console().print("[/x] plain")
    out = capsys.readouterr().out
    for word in ("[/bold] title", "[red]B", "[/]", "\\x1b[31mred :x:", "[/x] plain"):
        assert word in out, out
    assert "\x1b" not in out


def test_json_output_has_no_infinity_or_nan(capsys):
    from her2lab.cli._io import write_json

    write_json({"a": float("inf"), "b": [float("nan"), 1.5], "c": -float("inf")})
    assert json.loads(capsys.readouterr().out) == {"a": None, "b": [None, 1.5], "c": None}


def test_the_memory_bound_of_boolnet_simulate_follows_the_windows(tmp_path):
    """Twice the windows, about twice the memory; a run is refused exactly when the estimate
    exceeds the share of the memory available, before any work."""
    from her2lab.boolnet import StochasticSimulator
    from her2lab.boolnet.formats import parse_bnet
    from her2lab.cli import boolnet as cb

    m = parse_bnet("targets, factors\nA, A\nB, !A\n")

    def sim(max_time: float) -> StochasticSimulator:
        return StochasticSimulator(m, samples=10, max_time=max_time, time_tick=0.5,
                                   keep_final_states=False, nodes=["A", "B"])

    small, big = sim(1e5).memory_bytes(), sim(2e5).memory_bytes()
    assert 1.9 < (big - (1 << 20)) / (small - (1 << 20)) < 2.1
    # samples cost nothing without final states
    many = StochasticSimulator(m, samples=10**12, max_time=1e5, time_tick=0.5,
                               keep_final_states=False, nodes=["A", "B"])
    assert many.memory_bytes() == small
    cb._check_memory(sim(1e5), 2, False)  # fits
    with pytest.raises(SimulationError, match=r"averaging windows.*--time-tick of at least"):
        cb._check_memory(sim(1e12), 2, False)
