"""No command writes into what it reads: an output that is an input (after symbolic links) or
lies in the knowledge base's data directory is refused before any work (issue 25).

The commands that read the shipped data directory run here in-process against a copy of it
(``her2lab.knowledge.layout.DATA_DIR`` pointed at the copy), so a regression fails on the copy,
never on the source tree. The cases with files a user names (a calibration, a model, a
profile list) are in ``test_hostile_inputs.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import her2lab.cli as cli
import her2lab.knowledge.layout as layout

MINIMAL_KB = Path(__file__).resolve().parent / "data" / "kb_minimal"


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    """A copy of a data directory standing for the shipped one."""
    d = tmp_path / "data"
    shutil.copytree(MINIMAL_KB, d)
    monkeypatch.setattr(layout, "DATA_DIR", d)
    monkeypatch.chdir(tmp_path)
    return d


def _listing(d: Path) -> dict[str, bytes]:
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in d.rglob("*") if p.is_file()}


COMMANDS = [
    ("calibrate", ["trials", "calibrate", "--as-of", "2014-08-12", "-o", "{data}/cal.json"]),
    ("synth_kb", ["synth", "kb", "-o", "{data}/pooled"]),
    ("reproduce", ["reproduce", "-o", "{data}"]),
    ("reproduce_around", ["reproduce", "-o", "{root}"]),
    ("screen", ["screen", "-o", "{data}/screen", "--samples", "10"]),
    ("export", ["kb", "export", "-o", "{data}/drugs.yaml"]),
    ("report", ["report", "--profile", "none", "--setting", "neoadjuvant",
                "-o", "{data}/r.html"]),
    ("synth_kb_by_a_link", ["synth", "kb", "-o", "link/pooled"]),
]


@pytest.mark.parametrize("argv", [c[1] for c in COMMANDS], ids=[c[0] for c in COMMANDS])
def test_an_output_in_the_data_directory_is_refused_before_work(capsys, data_dir, argv):
    (data_dir.parent / "link").symlink_to(data_dir)
    before = _listing(data_dir)
    args = [a.format(data=data_dir, root=data_dir.parent) for a in argv]
    with pytest.raises(SystemExit) as info:
        cli.main(args)
    _, err = capsys.readouterr()
    assert info.value.code == 2, err
    assert "input directory" in err and str(data_dir) in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert _listing(data_dir) == before
