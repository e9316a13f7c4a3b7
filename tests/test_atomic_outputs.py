"""Every file a command writes is written whole or not at all, and never over an input.

- Under a file-size limit (``RLIMIT_FSIZE``, what a full disk looks like to a writer) each
  writing command fails with one clear error, the old output is left byte for byte, and no
  temporary file is left behind (issue 25: ``screen`` used to leave a heatmap truncated and
  ``boolnet convert`` an output changed to the limit's size).
- A FIFO, ``/dev/null`` or a link to ``/dev/stdout`` as the output is written through, never
  replaced by a regular file; a link to a regular file keeps being a link.
- :mod:`her2lab.atomic` itself: the temporary file keeps the suffix, an exception leaves the
  old file, an existing file keeps its permissions.

The commands run in subprocesses (the limit must not bind the test process); the caches are
the suite's (``HER2LAB_CACHE``), warmed by a first unlimited command.
"""

from __future__ import annotations

import os
import re
import resource
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from her2lab.atomic import atomic_path, atomic_write_text, is_temporary
from her2lab.errors import OutputError

ROOT = Path(__file__).resolve().parent.parent
HER2_BND = ROOT / "src" / "her2lab" / "pathway" / "data" / "her2.bnd"
HER2_CFG = HER2_BND.with_suffix(".cfg")
OLD = "old content, must survive\n"
#: The file-size limit: above the KB's cache entries and the small outputs, below the
#: outputs checked (an SBML of the HER2 model, a JSON export, a plotly page, a report).
LIMIT = 8 * 1024

RUN = "import sys; from her2lab.cli import main; main(sys.argv[1:])"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "HER2LAB_DEBUG")}
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["COLUMNS"] = "20"
    env["TERM"] = "dumb"
    return env


def _her2lab(argv: list[str], cwd: Path, *, limit: int | None = None,
             timeout: float = 300) -> subprocess.CompletedProcess:
    def pre() -> None:
        if limit is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past it fails (EFBIG)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run([sys.executable, "-c", RUN, *argv], cwd=cwd, env=_env(),
                          preexec_fn=pre, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def warm(tmp_path_factory) -> None:
    """The knowledge base compiled into the suite's cache before any limit applies."""
    r = _her2lab(["kb", "sql", "SELECT 1 AS one", "-f", "csv"], tmp_path_factory.mktemp("w"))
    assert r.returncode == 0, r.stderr


def _temporaries(d: Path) -> list[Path]:
    return [p for p in d.rglob("*") if is_temporary(p.name)]


BNET = "targets, factors\nA, A\nB, !A\n"

# (id, files to make, argv, the old output that must survive)
WRITERS = [
    ("kb_export_json", {}, ["kb", "export", "-o", "out/kb.json"], "out/kb.json"),
    ("kb_export_csv", {}, ["kb", "export", "-f", "csv", "-o", "out/kb.csv"], "out/kb.csv"),
    ("convert_to_sbml", {"m.bnd": HER2_BND, "m.cfg": HER2_CFG},
     ["boolnet", "convert", "m.bnd", "out/m.sbml"], "out/m.sbml"),
    ("convert_to_bnd_and_cfg", {"m.bnd": HER2_BND, "m.cfg": HER2_CFG},
     ["boolnet", "convert", "m.bnd", "out/x.bnd"], "out/x.bnd"),
    ("screen", {"p.txt": "none\n", "r.txt": "trastuzumab\n"},
     ["screen", "--profiles", "p.txt", "--regimens", "r.txt", "-o", "out", "--samples", "10"],
     "out/response_heatmap.html"),
    ("synth_kb", {}, ["synth", "kb", "dual_vs_single_neoadjuvant_pcr", "-o", "out"],
     "out/dual_vs_single_neoadjuvant_pcr.html"),
    ("report", {}, ["report", "--profile", "none", "--setting", "neoadjuvant", "-o",
                    "out/r.html", "--samples", "10", "--replicates", "1"], "out/r.html"),
]


@pytest.mark.slow
@pytest.mark.parametrize("name, files, argv, old", WRITERS, ids=[w[0] for w in WRITERS])
def test_a_full_disk_leaves_the_old_output_and_no_temporary_file(
        warm, tmp_path, name, files, argv, old):
    for rel, content in files.items():
        (tmp_path / rel).write_bytes(content.read_bytes() if isinstance(content, Path)
                                     else content.encode())
    target = tmp_path / old
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(OLD)
    if name == "convert_to_bnd_and_cfg":
        (tmp_path / "out" / "x.cfg").write_text(OLD)
    r = _her2lab(argv, tmp_path, limit=LIMIT)
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr
    assert "cannot write" in r.stderr, r.stderr
    assert target.read_text() == OLD
    if name == "convert_to_bnd_and_cfg":  # the pair: neither replaced
        assert (tmp_path / "out" / "x.cfg").read_text() == OLD
    assert _temporaries(tmp_path) == []


@pytest.mark.slow
def test_reproduce_under_a_full_disk_leaves_no_manifest(warm, tmp_path):
    """The main job with one stage writing a file past the limit: it fails, the old file
    stays, and MANIFEST.json (written last) is not there."""
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "import her2lab.cli.reproduce as rp\n"
        "from her2lab.atomic import atomic_write_text\n"
        "from her2lab.reproduce import FunctionStage, StageResult\n"
        "def big(ctx):\n"
        "    p = ctx.out_dir / 'big.txt'\n"
        f"    atomic_write_text(p, 'x' * {4 * LIMIT})\n"
        "    return StageResult(files=[p], summary=[('big', '1')])\n"
        "rp.load_stages = lambda: [FunctionStage('big', 'Big', big)]\n"
        "from her2lab.cli import main\n"
        "main(sys.argv[1:])\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "big.txt").write_text(OLD)

    def pre() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))

    r = subprocess.run([sys.executable, "-c", script, "reproduce", "-o", "out"], cwd=tmp_path,
                       env=_env(), preexec_fn=pre, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr[-2000:]
    assert "cannot write" in r.stderr and "big.txt" in r.stderr
    assert (out / "big.txt").read_text() == OLD
    assert not (out / "MANIFEST.json").exists()
    assert _temporaries(tmp_path) == []


# --------------------------------------------------------------------------- special outputs


def test_a_fifo_is_written_through_not_replaced(warm, tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    r = _her2lab(["kb", "export", "-o", "pipe.json"], tmp_path, timeout=120)
    reader.join(30)
    assert r.returncode == 0, r.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert got and got[0].lstrip().startswith(b"{") and b"trastuzumab" in got[0]
    assert _temporaries(tmp_path) == []


def test_dev_null_stays_a_device(warm, tmp_path):
    r = _her2lab(["kb", "export", "-o", "/dev/null"], tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_link_to_stdout_is_written_through(tmp_path):
    (tmp_path / "m.bnet").write_text(BNET)
    (tmp_path / "out.bnet").symlink_to("/dev/stdout")
    r = _her2lab(["boolnet", "convert", "m.bnet", "out.bnet"], tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "targets, factors" in r.stdout  # through the pipe that is stdout
    assert (tmp_path / "out.bnet").is_symlink()


def test_a_link_to_a_file_replaces_the_file_and_stays_a_link(tmp_path):
    (tmp_path / "m.bnet").write_text(BNET)
    real = tmp_path / "real.bnet"
    real.write_text(OLD)
    (tmp_path / "link.bnet").symlink_to("real.bnet")
    r = _her2lab(["boolnet", "convert", "m.bnet", "link.bnet"], tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "link.bnet").is_symlink()
    assert real.read_text().startswith("targets, factors")


# --------------------------------------------------------------------------- the writer


def test_the_temporary_file_keeps_the_suffix_and_lies_beside_the_target(tmp_path):
    target = tmp_path / "plot.png"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".png" and is_temporary(tmp.name)
        tmp.write_bytes(b"png")
    assert target.read_bytes() == b"png" and _temporaries(tmp_path) == []


def test_an_exception_in_the_block_leaves_the_old_file(tmp_path):
    target = tmp_path / "t.csv"
    target.write_text(OLD)
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert target.read_text() == OLD and _temporaries(tmp_path) == []


def test_an_existing_file_keeps_its_permissions(tmp_path):
    target = tmp_path / "t.txt"
    target.write_text(OLD)
    target.chmod(0o640)
    atomic_write_text(target, "new\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640 and target.read_text() == "new\n"


def test_a_directory_or_socket_is_refused(tmp_path):
    with pytest.raises(OutputError, match="directory"):
        atomic_write_text(tmp_path, "x")


# --------------------------------------------------------------------------- one writer

#: Writes that are not outputs: scratch files in temporary directories (each with why).
SCRATCH = {
    "boolnet/_native.py": 3,  # the kernel's object file and stubs in a TemporaryDirectory
    "virtual_trials/fit.py": 1,  # a pickle for worker processes in a mkstemp file
    "api/routes/report.py": 1,  # a calibration handed to the report in a TemporaryDirectory
    "cli/__init__.py": 1,  # stdout reopened on /dev/null after a broken pipe
    # the main job's calibration: becomes Calibration.write (atomic) with the lead's
    # calibration wiring; then this entry goes
    "virtual_trials/stages.py": 1,
}

_RAW_WRITE = re.compile(r"\.write_text\(|\.write_bytes\(|\bopen\([^)]*[\"']w|os\.fdopen\("
                        r"|shutil\.copy(file)?\(|\.savefig\((?!buf|tmp)|\bfig\.write_html\((?!tmp)")


def test_every_output_goes_through_the_atomic_writer():
    """Outside :mod:`her2lab.atomic`, no module writes a file directly (writes into the
    temporary path of ``atomic_path``/``atomic_open`` are the atomic writer's)."""
    src = ROOT / "src" / "her2lab"
    found: dict[str, list[str]] = {}
    for path in sorted(src.rglob("*.py")):
        rel = path.relative_to(src).as_posix()
        if rel == "atomic.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            code = line.split("#", 1)[0]
            if _RAW_WRITE.search(code) and "tmp" not in code and "def " not in code:
                found.setdefault(rel, []).append(f"{rel}:{n}: {line.strip()}")
    over = [f for rel, hits in found.items() if len(hits) > SCRATCH.get(rel, 0) for f in hits]
    assert not over, "write through her2lab.atomic instead:\n" + "\n".join(over)
