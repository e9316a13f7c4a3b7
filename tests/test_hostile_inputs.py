"""Hostile inputs through the console entry point: each ends in one clear error, quickly.

Every case runs ``her2lab.cli.main(argv)`` in its own subprocess (forked from a runner that
imported the CLI once, see ``hostile_runner.py``), in a working directory under a path longer
than 150 characters with ``COLUMNS=40``, and again in a short path with a wide terminal. For a
failing case the test asserts: the documented exit code of its class, a message on standard
error naming the file, line or field where there is one, no traceback, the case done within
its time limit, and nothing written in its directory. The cases follow the classes of issue 12
(``CLASS`` below); ``test_every_class_has_cases`` keeps the count per class honest.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
MINIMAL_KB = HERE / "data" / "kb_minimal"
SPEC_EXAMPLE = (HERE.parent / "src" / "her2lab" / "virtual_trials" / "examples"
                / "neoadjuvant_dual_blockade.yaml")

USAGE, ERROR, PROBLEMS, OK = 64, 2, 1, 0

CLASS = {
    "usage": "usage mistakes (options, arguments, commands)",
    "markup": "text read as markup, wrapped or coloured by the terminal",
    "resources": "hangs and resource exhaustion",
    "malformed": "malformed files",
    "values": "values that pass a schema and crash later",
    "outputs": "output problems found too late",
    "ignored": "silently ignored input",
    "environment": "environment (cache directory)",
    "vague": "vague messages",
}

# "The billion laughs" of YAML: 9**7 strings from under 300 bytes.
BOMB = "".join(
    f"{k}: &{k} [{','.join([f'*{p}'] * 9) if p else ','.join(['lol'] * 9)}]\n"
    for p, k in zip(["", *"abcdef"], "abcdefg", strict=True)
)
BND = "Node A {\n  logic = A;\n  rate_up = @logic ? 1 : 0;\n  rate_down = @logic ? 0 : 1;\n}\n"
CFG = "A.istate = 0.5;\ntime_tick = 0.5;\nmax_time = 2;\n"
BNET = "targets, factors\nA, A\n"
LONG = "x" * 130


@dataclass
class Case:
    id: str
    klass: str
    argv: list[str]
    code: int
    err: list[str] = field(default_factory=list)  # words the message must contain
    out: list[str] = field(default_factory=list)  # words standard output must contain
    files: dict[str, str | bytes] = field(default_factory=dict)
    kb: dict[str, str | bytes] | None = None  # a copy of kb_minimal at kb/ with these files
    env: dict[str, str] = field(default_factory=dict)
    timeout: float = 30.0
    json_out: bool = False  # standard output must be JSON
    links: dict[str, str] = field(default_factory=dict)  # symbolic links: name -> target
    err_lines: int | None = None  # standard error has exactly this many lines
    not_out: list[str] = field(default_factory=list)  # words standard output must not contain

    def prepare(self, root: Path) -> Path:
        d = root / self.id
        d.mkdir(parents=True)
        if self.kb is not None:
            shutil.copytree(MINIMAL_KB, d / "kb")
            for rel, content in self.kb.items():
                _write(d / "kb" / rel, content)
        for rel, content in self.files.items():
            if rel.endswith("/"):
                (d / rel).mkdir(parents=True)
            else:
                _write(d / rel, content)
        for rel, target in self.links.items():
            (d / rel).symlink_to(target)
        return d


def _write(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


def _spec(**replace: str) -> str:
    text = SPEC_EXAMPLE.read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


def _kb_file(rel: str, old: str, new: str) -> dict[str, str]:
    text = (MINIMAL_KB / rel).read_text(encoding="utf-8")
    assert old in text, old
    return {rel: text.replace(old, new, 1)}


SPEC = _spec()


def _kb_drugs(*after: tuple[str, str]) -> dict[str, str]:
    """kb_minimal's drugs.yaml with each ``(line, added)``: ``added`` after that line."""
    text = (MINIMAL_KB / "drugs.yaml").read_text(encoding="utf-8")
    for line, added in after:
        assert line in text, line
        text = text.replace(line, line + added, 1)
    return {"drugs.yaml": text}


def _calibration(**change: object) -> str:
    """A calibration JSON both readers accept (the priors' means, a diagonal covariance of
    the priors' variances), with ``change`` applied: ``params.X``, ``cov`` (a 7 x 7 list)."""
    params = {"log_kill": 0.834, "log_targeted": 0.0, "log_resistance": -1.609,
              "tki_offset": 0.0, "setting": {}}
    cov = [[(0.25 if i == j else 0.0) for j in range(7)] for i in range(7)]
    for key, value in change.items():
        if key == "cov":
            cov = value  # type: ignore[assignment]
        else:
            params[key.removeprefix("params.")] = value
    text = json.dumps({"as_of": "2014-08-12", "params": params, "fit": {"cov": cov}})
    return text.replace('"__NaN__"', "NaN")


_NAN_COV = [[("__NaN__" if (i, j) == (2, 2) else 0.25 if i == j else 0.0) for j in range(7)]
            for i in range(7)]
_NEGATIVE_COV = [[(-0.5 if (i, j) == (1, 1) else 0.25 if i == j else 0.0) for j in range(7)]
                 for i in range(7)]
MARKUP_META = ("study,estimate,ci_low,ci_high\n[/bold],0.7,0.5,0.9\n[red]B,0.8,0.6,1.1\n"
               "[/],0.9,0.7,1.2\n")
MARKUP_NMA = ("study,treatment1,treatment2,estimate,se\ns1,[/x],[red]B,-0.2,0.1\n"
              "s2,[red]B,[/],0.1,0.12\ns3,[/x],[/],-0.1,0.15\n")
MARKUP_SPEC = ('name: "\\e[31mred [/bold] [red]B"\nsetting: neoadjuvant\narms:\n'
               '  - {name: "[/x]", regimen: [Tykerb, Herceptin, Taxol], n: 150}\n'
               '  - {name: "[red]B", regimen: [Herceptin, Taxol], n: 150}\n'
               'control: "[red]B"\nendpoint: pCR\ncontrol_rate: 0.3\n')
PLAIN_COUNTS = "study,events_t,n_t,events_c,n_c\na,10,100,20,100\nb,15,120,25,118\nc,5,80,9,82\n"
ZERO_CELLS = "study,events_t,n_t,events_c,n_c\na,0,100,20,100\nb,15,120,0,118\n"
FAST = ["--samples", "10", "--panel", "2", "--replicates", "2"]
RECURSIVE = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
             "SELECT count(*) FROM c")

CASES = [
    # ---------------------------------------------------------------- usage (exit 64)
    Case("samples_0", "usage", ["simulate", "--samples", "0"], USAGE, ["--samples"]),
    Case("no_such_command", "usage", ["nosuchcmd"], USAGE, ["No such command", "nosuchcmd"]),
    Case("sql_without_query", "usage", ["kb", "sql"], USAGE, ["QUERY"]),
    Case("export_format_xml", "usage", ["kb", "export", "--format", "xml"], USAGE,
         ["--format", "json, csv", "xml"]),
    Case("samples_100000000", "usage", ["simulate", "--samples", "100000000"], USAGE,
         ["--samples", "1000000"]),
    Case("samples_not_a_number", "usage", ["boolnet", "simulate", "m.bnet", "--samples", "abc"],
         USAGE, ["--samples", "integer"], files={"m.bnet": BNET}),
    Case("seed_negative", "usage", ["simulate", "--seed", "-5"], USAGE, ["--seed"]),
    Case("seed_too_large", "usage", ["simulate", "--seed", "99999999999999999999999"], USAGE,
         ["--seed"]),
    Case("reproduce_seed_negative", "usage", ["reproduce", "--seed", "-1", "-o", "out"], USAGE,
         ["--seed"]),
    Case("unknown_option", "usage", ["kb", "trials", "--colour"], USAGE, ["--colour"]),
    Case("sql_timeout_0", "usage", ["kb", "sql", "SELECT 1", "--timeout", "0"], USAGE,
         ["--timeout"]),
    Case("panel_0", "usage", ["trials", "simulate", "emilia", "--panel", "0"], USAGE,
         ["--panel"]),
    Case("attractors_update_bad", "usage", ["boolnet", "attractors", "m.bnet", "--update", "x"],
         USAGE, ["--update"], files={"m.bnet": BNET}),
    Case("report_samples_huge", "usage",
         ["report", "--profile", "none", "--setting", "neoadjuvant", "-o", "r.html",
          "--samples", "100000000"], USAGE, ["--samples"]),
    Case("synth_measure_unknown", "usage", ["synth", "meta", "m.csv", "--measure", "XX"], USAGE,
         ["--measure", "XX"], files={"m.csv": "study,estimate,ci_low,ci_high\n"}),
    # ---------------------------------------------------------------- silently ignored
    Case("cfg_sample_count_abc", "ignored", ["boolnet", "simulate", "m.bnd"], ERROR,
         ["m.cfg", "sample_count", "abc"], files={"m.bnd": BND,
                                                   "m.cfg": CFG + "sample_count = abc;\n"}),
    Case("cfg_sample_count_negative", "ignored", ["boolnet", "simulate", "m.bnd"], ERROR,
         ["m.cfg", "sample_count", "-5"], files={"m.bnd": BND,
                                                  "m.cfg": CFG + "sample_count = -5;\n"}),
    Case("cfg_sample_count_fraction", "ignored", ["boolnet", "simulate", "m.bnd"], ERROR,
         ["m.cfg", "sample_count", "2.5"], files={"m.bnd": BND,
                                                   "m.cfg": CFG + "sample_count = 2.5;\n"}),
    Case("cfg_with_a_bnet_model", "ignored", ["boolnet", "simulate", "m.bnet", "--cfg", "m.cfg"],
         USAGE, ["--cfg", "m.bnet"], files={"m.bnet": BNET, "m.cfg": CFG}),
    Case("predict_format_xml", "ignored", ["trials", "predict", "spec.yaml", "--format", "xml"],
         USAGE, ["--format", "xml"], files={"spec.yaml": SPEC}),
    Case("bootstrap_negative", "ignored",
         ["trials", "calibrate", "--as-of", "2014-08-12", "--bootstrap", "-1"], USAGE,
         ["--bootstrap"]),
    # ---------------------------------------------------------------- markup and terminal
    Case("profile_markup", "markup", ["simulate", "--profile", "[/bold]", "--samples", "10"],
         ERROR, ["'[/bold]'", "pten_loss"]),
    Case("model_name_with_brackets", "markup", ["boolnet", "simulate", "model[draft].bnet"],
         ERROR, ["model[draft].bnet:2"], files={"model[draft].bnet": "targets, factors\nA, A &\n"}),
    Case("directory_with_markup", "markup", ["kb", "validate", "[red]nowhere"], ERROR,
         ["[red]nowhere", "no such directory"]),
    Case("long_path_not_wrapped", "markup", ["boolnet", "simulate", f"{LONG}/m.bnet"], ERROR,
         [f"{LONG}/m.bnet"]),
    Case("json_with_colour_forced", "markup", ["kb", "trials", "--format", "json"], OK,
         out=["cleopatra"], env={"FORCE_COLOR": "1", "TERM": "xterm-256color"}, json_out=True),
    Case("csv_with_colour_forced", "markup", ["kb", "sql", "SELECT id FROM drugs", "-f", "csv"],
         OK, out=["id\n", "trastuzumab"], env={"FORCE_COLOR": "1", "TERM": "xterm-256color"}),
    Case("table_to_a_file_not_truncated", "markup",
         ["kb", "sql", f"SELECT '{'v' * 150}' AS a_rather_long_column_name"], OK,
         out=["v" * 150, "a_rather_long_column_name"]),
    Case("report_profile_markup", "markup",
         ["report", "--profile", "[/bold]", "--setting", "neoadjuvant", "-o", "r.html"], ERROR,
         ["[/bold]", "pten_loss"]),
    # ---------------------------------------------------------------- resources
    Case("alias_bomb_in_the_kb", "resources", ["kb", "validate", "kb"], PROBLEMS,
         ["kb/drugs.yaml:7", "alias bomb"], kb={"drugs.yaml": BOMB}, timeout=20),
    Case("alias_bomb_in_a_spec", "resources", ["trials", "predict", "bomb.yaml"], ERROR,
         ["bomb.yaml:7", "alias bomb"], files={"bomb.yaml": BOMB}, timeout=20),
    Case("recursive_cte", "resources", ["kb", "sql", RECURSIVE, "--timeout", "1"], ERROR,
         ["time limit of 1 s"], timeout=20),
    Case("sql_too_many_rows", "resources",
         ["kb", "sql", "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
          "LIMIT 200000) SELECT x FROM c"], ERROR, ["more than 100000 rows"]),
    Case("spec_n_1000000000", "resources", ["trials", "predict", "spec.yaml"], ERROR,
         ["spec.yaml:8", "arms[0].n", "1000000000"],
         files={"spec.yaml": _spec(**{"n: 150}": "n: 1000000000}"})}, timeout=20),
    Case("yaml_nested_too_deep", "resources", ["trials", "predict", "deep.yaml"], ERROR,
         ["deep.yaml", "nest"], files={"deep.yaml": "a: " + "[" * 5000 + "]" * 5000 + "\n"}),
    # ---------------------------------------------------------------- malformed files
    Case("binary_bnet", "malformed", ["boolnet", "simulate", "bin.bnet"], ERROR,
         ["bin.bnet:1", "UTF-8"], files={"bin.bnet": b"\xff\xfe\x00\x01binary"}),
    Case("latin1_bnd", "malformed", ["boolnet", "simulate", "m.bnd"], ERROR,
         ["m.bnd:1", "UTF-8"], files={"m.bnd": "Node \xc4 {}\n".encode("latin-1")}),
    Case("nul_bytes_in_a_spec", "malformed", ["trials", "predict", "spec.yaml"], ERROR,
         ["spec.yaml", "NUL"], files={"spec.yaml": SPEC.encode() + b"\x00\x00"}),
    Case("impossible_date", "malformed", ["kb", "validate", "kb"], PROBLEMS,
         ["kb/trials/neosphere.yaml:4", "2020-13-01", "month"],
         kb=_kb_file("trials/neosphere.yaml", "nct: NCT00545688\n",
                     "nct: NCT00545688\npublished: 2020-13-01\n")),
    Case("deeply_nested_rule", "malformed", ["boolnet", "simulate", "deep.bnet"], ERROR,
         ["deep.bnet:2", "nests deeper"],
         files={"deep.bnet": "targets, factors\nA, " + "(" * 5000 + "A" + ")" * 5000 + "\n"}),
    Case("ten_thousand_negations", "malformed", ["boolnet", "attractors", "neg.bnet"], ERROR,
         ["neg.bnet:2", "nests deeper"],
         files={"neg.bnet": "targets, factors\nA, " + "!" * 10000 + "A\n"}),
    Case("directory_as_model", "malformed", ["boolnet", "simulate", "dir.bnet"], ERROR,
         ["dir.bnet", "directory"], files={"dir.bnet/": ""}),
    Case("directory_as_spec", "malformed", ["trials", "predict", "spec.yaml"], ERROR,
         ["spec.yaml", "directory"], files={"spec.yaml/": ""}),
    Case("missing_cfg", "malformed", ["boolnet", "simulate", "m.bnd", "--cfg", "nope.cfg"],
         ERROR, ["nope.cfg", "no such file"], files={"m.bnd": BND}),
    Case("sbml_garbage", "malformed", ["boolnet", "simulate", "m.sbml"], ERROR, ["m.sbml"],
         files={"m.sbml": "<sbml><model id='x'><unclosed"}),
    Case("bnet_syntax_error", "malformed", ["boolnet", "simulate", "m.bnet"], ERROR,
         ["m.bnet:2:"], files={"m.bnet": "targets, factors\nA, A & | B\n"}),
    Case("empty_spec", "malformed", ["trials", "predict", "spec.yaml"], ERROR,
         ["spec.yaml", "empty"], files={"spec.yaml": "# nothing here\n"}),
    Case("binary_profile_list", "malformed",
         ["screen", "--profiles", "bin.txt", "-o", "out", "--samples", "10"], ERROR,
         ["bin.txt:1", "UTF-8"], files={"bin.txt": b"\xff\xd8\xff\xe0 a jpeg"}),
    Case("data_dir_is_a_file", "malformed", ["kb", "--data-dir", "afile", "trials"], ERROR,
         ["afile", "a data directory", "found a file"], files={"afile": "x"}),
    Case("synth_binary_csv", "malformed", ["synth", "meta", "bin.csv", "--measure", "HR"],
         ERROR, ["bin.csv", "UTF-8"], files={"bin.csv": b"\xff\xfe\x00study"}),
    Case("spec_is_a_list", "malformed", ["trials", "predict", "spec.yaml"], ERROR,
         ["spec.yaml:1", "mapping"], files={"spec.yaml": "- 1\n- 2\n"}),
    # ---------------------------------------------------------------- values
    Case("calibration_string_parameter", "values",
         ["trials", "simulate", "emilia", "--calibration", "cal.json"], ERROR,
         ["cal.json", "params.log_kill", "'3'"],
         files={"cal.json": '{"params": {"log_kill": "3", "tki_offset": 0.0}}'}),
    Case("calibration_nan_parameter", "values",
         ["trials", "simulate", "emilia", "--calibration", "cal.json"], ERROR,
         ["cal.json", "params.tki_offset", "finite"],
         files={"cal.json": '{"params": {"log_kill": 3.0, "tki_offset": NaN}}'}),
    Case("calibration_not_json", "values",
         ["trials", "simulate", "emilia", "--calibration", "cal.json"], ERROR,
         ["cal.json", "calibration JSON"], files={"cal.json": "beta = 3\n"}),
    Case("calibrate_as_of_1990", "values",
         ["trials", "calibrate", "--as-of", "1990-01-01", "-o", "c.json"], ERROR,
         ["1990-01-01"]),
    Case("calibrate_as_of_not_a_date", "values", ["trials", "calibrate", "--as-of", "12/08/2014"],
         ERROR, ["YYYY-MM-DD", "12/08/2014"]),
    Case("potency_out_of_range", "values",
         ["simulate", "--regimen", "trastuzumab", "--potency", "trastuzumab=2", "--samples",
          "10"], ERROR, ["potency"]),
    Case("design_power_2", "values", ["trials", "design", "spec.yaml", "--power", "2"], ERROR,
         ["--power"], files={"spec.yaml": SPEC}),
    Case("spec_unknown_drug", "values", ["trials", "predict", "spec.yaml"], ERROR,
         ["spec.yaml:8", "arms[0].regimen[0]", "aspirin"],
         files={"spec.yaml": _spec(**{"regimen: [Tykerb,": "regimen: [aspirin,"})}),
    Case("synth_string_estimate", "values", ["synth", "meta", "m.csv", "--measure", "HR"],
         ERROR, ["m.csv:3", "estimate", "abc"],
         files={"m.csv": "study,estimate,ci_low,ci_high\na,0.5,0.3,0.8\nb,abc,0.2,0.9\n"}),
    # ---------------------------------------------------------------- outputs
    Case("calibrate_output_below_a_file", "outputs",
         ["trials", "calibrate", "--as-of", "2014-08-12", "-o", "afile/c.json"], ERROR,
         ["afile"], files={"afile": "x"}, timeout=20),
    Case("reproduce_into_a_file", "outputs", ["reproduce", "-o", "afile"], ERROR,
         ["-o afile", "found a file"], files={"afile": "x"}),
    Case("export_into_proc", "outputs", ["kb", "export", "-o", "/proc/her2lab-kb.json"], ERROR,
         ["/proc"]),
    Case("export_into_a_directory", "outputs", ["kb", "export", "-o", "adir"], ERROR,
         ["adir", "directory"], files={"adir/": ""}),
    Case("convert_into_proc", "outputs", ["boolnet", "convert", "m.bnet", "/proc/h2l.bnd"], ERROR,
         ["/proc/h2l.bnd", "cannot create files"], files={"m.bnet": BNET}),
    Case("convert_below_a_file", "outputs", ["boolnet", "convert", "m.bnet", "afile/m.sbml"],
         ERROR, ["afile", "not a directory"], files={"m.bnet": BNET, "afile": "x"}),
    Case("report_into_proc", "outputs",
         ["report", "--profile", "none", "--setting", "neoadjuvant", "-o", "/proc/r.html"],
         ERROR, ["/proc/r.html"]),
    Case("screen_into_a_file", "outputs", ["screen", "-o", "afile", "--samples", "10"], ERROR,
         ["afile", "found a file"], files={"afile": "x"}),
    # ---------------------------------------------------------------- environment
    Case("cache_is_a_file_sql", "environment",
         ["kb", "sql", "SELECT count(*) AS n FROM trials", "-f", "csv"], OK, out=["n\n"],
         files={"cachefile": "x"}, env={"HER2LAB_CACHE": "cachefile"}),
    Case("cache_is_a_file_drug", "environment", ["kb", "drug", "trastuzumab"], OK,
         out=["Herceptin"], files={"cachefile": "x"}, env={"HER2LAB_CACHE": "cachefile"}),
    Case("cache_below_a_file_trials", "environment", ["kb", "trials", "-f", "json"], OK,
         out=["cleopatra"], files={"cachefile": "x"}, env={"HER2LAB_CACHE": "cachefile/sub"},
         json_out=True),
    # ---------------------------------------------------------------- vague messages
    Case("bnd_undefined_node_names_the_file", "vague", ["boolnet", "simulate", "u.bnd"], ERROR,
         ["u.bnd", "'B'"], files={"u.bnd": BND.replace("logic = A", "logic = B")}),
    Case("empty_drugs_file_names_the_file", "vague", ["kb", "validate", "kb"], PROBLEMS,
         ["1 problem(s)", "kb/drugs.yaml", "empty"], kb={"drugs.yaml": "# none\n"}),
    Case("unknown_trial_lists_the_valid_ones", "vague", ["trials", "simulate", "nope"], ERROR,
         ["'nope'", "cleopatra"]),
    # ---------------------------------------------------------------- issue 25: data loss
    Case("export_over_a_kb_file", "outputs",
         ["kb", "--data-dir", "kb", "export", "-o", "kb/drugs.yaml"], ERROR,
         ["kb/drugs.yaml", "input directory"], kb={}),
    Case("export_through_a_link_into_the_kb", "outputs",
         ["kb", "--data-dir", "kb", "export", "-o", "link.yaml"], ERROR,
         ["link.yaml", "input directory"], kb={}, links={"link.yaml": "kb/drugs.yaml"}),
    Case("convert_onto_itself", "outputs", ["boolnet", "convert", "m.bnet", "m.bnet"], ERROR,
         ["m.bnet", "the input"], files={"m.bnet": BNET}),
    Case("convert_cfg_over_the_input_cfg", "outputs",
         ["boolnet", "convert", "m.bnd", "--cfg", "x.cfg", "x.bnd"], ERROR,
         ["x.cfg", "the input"], files={"m.bnd": BND, "x.cfg": CFG}),
    Case("report_over_its_calibration", "outputs",
         ["report", "--profile", "none", "--setting", "neoadjuvant", "--calibration",
          "cal.json", "-o", "cal.json"], ERROR, ["cal.json", "the input"],
         files={"cal.json": _calibration()}),
    Case("report_over_its_calibration_by_a_link", "outputs",
         ["report", "--profile", "none", "--setting", "neoadjuvant", "--calibration",
          "cal.json", "-o", "out.json"], ERROR, ["out.json", "the input"],
         files={"cal.json": _calibration()}, links={"out.json": "cal.json"}),
    Case("screen_over_its_profile_list", "outputs",
         ["screen", "--profiles", "out/response_long.csv", "-o", "out", "--samples", "10"],
         ERROR, ["response_long.csv", "the input"],
         files={"out/response_long.csv": "pten_loss\n"}),
    Case("convert_into_a_missing_directory", "outputs",
         ["boolnet", "convert", "m.bnet", "new/sub/m.sbml"], OK, files={"m.bnet": BNET}),
    # ---------------------------------------------------------------- issue 25: markup
    Case("meta_study_names_as_markup", "markup", ["synth", "meta", "m.csv", "--measure", "HR"],
         OK, out=["[/bold]", "[red]B", "[/]"], files={"m.csv": MARKUP_META}),
    Case("nma_treatments_as_markup", "markup", ["synth", "nma", "n.csv", "--measure", "HR"],
         OK, out=["[/x]", "[red]B", "[/]"], files={"n.csv": MARKUP_NMA}),
    Case("predict_names_as_markup_and_an_escape", "markup",
         ["trials", "predict", "spec.yaml", *FAST], OK,
         out=["[/bold]", "[red]B", "[/x]", "\\x1b[31mred"], files={"spec.yaml": MARKUP_SPEC},
         timeout=60),
    Case("simulate_calibration_named_as_markup", "markup",
         ["trials", "simulate", "cleopatra", "--calibration", "c[red]x.json", *FAST], OK,
         out=["c[red]x.json"], files={"c[red]x.json": _calibration()}, timeout=60),
    # ---------------------------------------------------------------- issue 25: bounds
    Case("boolnet_max_time_1e9", "resources", ["boolnet", "simulate", "m.bnet", "--max-time",
                                               "1e9"], ERROR,
         ["2,000,000,000 averaging windows", "GiB", "--time-tick of at least"],
         files={"m.bnet": BNET}, err_lines=1),
    Case("boolnet_time_tick_1e-9", "resources",
         ["boolnet", "simulate", "m.bnet", "--time-tick", "1e-9"], ERROR,
         ["10,000,000,000 averaging windows", "--time-tick of at least"],
         files={"m.bnet": BNET}),
    Case("cfg_max_time_huge", "resources", ["boolnet", "simulate", "m.bnd"], ERROR,
         ["averaging windows", "GiB"],
         files={"m.bnd": BND, "m.cfg": CFG.replace("max_time = 2", "max_time = 1e12")}),
    Case("cfg_sample_count_huge", "resources", ["boolnet", "simulate", "m.bnd"], ERROR,
         ["sample_count", str(2**53)],
         files={"m.bnd": BND, "m.cfg": CFG + "sample_count = 1e20;\n"}),
    Case("boolnet_samples_beyond_a_million", "resources",
         ["boolnet", "simulate", "m.bnet", "--samples", "2000000", "--max-time", "1", "-f",
          "json"], OK, out=['"final"'], files={"m.bnet": BNET}, json_out=True),
    # ---------------------------------------------------------------- issue 25: calibrations
    Case("calibration_nan_covariance", "values",
         ["trials", "simulate", "cleopatra", "--calibration", "cal.json", *FAST], ERROR,
         ["cal.json", "NaN"], files={"cal.json": _calibration(cov=_NAN_COV)}),
    Case("calibration_huge_parameter", "values",
         ["trials", "simulate", "cleopatra", "--calibration", "cal.json", *FAST], ERROR,
         ["cal.json", "params.log_kill"], files={"cal.json": _calibration(log_kill=1e300)}),
    Case("calibration_negative_eigenvalue", "values",
         ["trials", "simulate", "cleopatra", "--calibration", "cal.json", *FAST], ERROR,
         ["cal.json", "fit.cov", "negative eigenvalue"],
         files={"cal.json": _calibration(cov=_NEGATIVE_COV)}),
    # ---------------------------------------------------------------- issue 25: nonsense
    Case("regimen_with_an_empty_drug", "ignored",
         ["simulate", "--regimen", "trastuzumab++", "--samples", "10"], ERROR,
         ["trastuzumab++", "empty drug name"]),
    Case("regimen_empty", "ignored", ["simulate", "--regimen", "", "--samples", "10"], ERROR,
         ["regimen", "empty string"]),
    Case("profile_of_commas", "ignored", ["simulate", "--profile", ",,", "--samples", "10"],
         ERROR, ["',,'", "empty item"]),
    Case("report_profile_of_commas", "ignored",
         ["report", "--profile", ",,", "--setting", "neoadjuvant", "-o", "r.html"], ERROR,
         ["',,'", "profile is empty"]),
    Case("mechanism_twice_two_degrees", "ignored",
         ["simulate", "--profile", "pten_loss=0.3,pten_loss=0.6", "--samples", "10"], ERROR,
         ["pten_loss", "twice", "0.3", "0.6"]),
    Case("drug_option_as_a_value", "ignored", ["kb", "trials", "--drug", "--x"], ERROR,
         ["'--x'", "trastuzumab"]),
    Case("spec_control_median_infinite", "ignored",
         ["trials", "predict", "spec.yaml", *FAST], ERROR,
         ["spec.yaml:13", "control_median_months", "finite"],
         files={"spec.yaml": _spec(**{"control_rate: 0.3": "control_rate: 0.3\n"
                                                          "control_median_months: .inf"})}),
    Case("sql_infinity_is_json", "ignored", ["kb", "sql", "SELECT 1e999 AS x", "-f", "json"],
         OK, out=['"x": null'], not_out=["Infinity"], json_out=True),
    Case("kb_component_loop", "ignored", ["kb", "validate", "kb"], PROBLEMS,
         ["kb/drugs.yaml:8", "trastuzumab -> pertuzumab -> trastuzumab"],
         kb=_kb_drugs(("  aliases: [Herceptin]\n", "  components: [pertuzumab]\n"),
                      ("  aliases: [Perjeta, rhuMAb 2C4]\n", "  components: [trastuzumab]\n"))),
    Case("kb_component_of_itself", "ignored", ["kb", "validate", "kb"], PROBLEMS,
         ["kb/drugs.yaml", "everolimus -> everolimus"],
         kb=_kb_file("drugs.yaml", "  aliases: [RAD001, Afinitor]\n",
                     "  aliases: [RAD001, Afinitor]\n  components: [everolimus]\n")),
    Case("meta_mixing_layouts", "ignored", ["synth", "meta", "m.csv", "--measure", "OR"], ERROR,
         ["m.csv", "mix layouts", "events_t"],
         files={"m.csv": "study,estimate,ci_low,ci_high,events_t,n_t,events_c,n_c\n"
                         "a,0.5,0.3,0.8,,,,\nb,,,,10,100,20,100\n"}),
    Case("meta_nul_byte", "malformed", ["synth", "meta", "m.csv", "--measure", "HR"], ERROR,
         ["m.csv:3", "NUL"],
         files={"m.csv": b"study,estimate,ci_low,ci_high\na,0.5,0.3,0.8\nb\x00,0.6,0.4,0.9\n"}),
    Case("meta_one_study_hksj_says_not_applied", "ignored",
         ["synth", "meta", "m.csv", "--measure", "HR", "--hksj"], OK,
         out=["HKSJ not applied", "needs at least two studies"], not_out=["with HKSJ"],
         files={"m.csv": "study,estimate,ci_low,ci_high\na,0.5,0.3,0.8\n"}),
    # ---------------------------------------------------------------- issue 25: ugly
    Case("meta_plain_counts_no_warnings", "vague",
         ["synth", "meta", "c.csv", "--measure", "OR"], OK, out=["OR", "random (REML)"],
         files={"c.csv": PLAIN_COUNTS}),
    Case("meta_zero_cells_no_warnings", "vague",
         ["synth", "meta", "z.csv", "--measure", "RR", "--method", "DL"], OK, out=["RR"],
         files={"z.csv": ZERO_CELLS}),
    Case("report_unknown_setting_one_line", "vague",
         ["report", "--profile", "none", "--setting", "nowhere", "-o", "r.html"], ERROR,
         ["'nowhere'", "neoadjuvant"], err_lines=1),
    Case("report_unknown_profile_one_line", "vague",
         ["report", "--profile", "nothing_known", "--setting", "neoadjuvant", "-o", "r.html"],
         ERROR, ["nothing_known"], err_lines=None),
    Case("validate_missing_path_exit_2", "vague", ["kb", "validate", "nowhere"], ERROR,
         ["nowhere", "no such directory"], err_lines=1),
    Case("boolnet_format_alias", "usage", ["boolnet", "simulate", "m.bnet", "-f", "json"], OK,
         out=['"final"'], files={"m.bnet": BNET}, json_out=True),
    Case("attractors_format_alias", "usage", ["boolnet", "attractors", "m.bnet", "-f", "json"],
         OK, out=['"attractors"'], files={"m.bnet": BNET}, json_out=True),
]


def _snapshot(d: Path) -> dict[str, tuple[int, int]]:
    return {p.relative_to(d).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(d.rglob("*"))}


def _run(root: Path, columns: int) -> dict:
    """Prepare every case under ``root``, run them all, return results and snapshots."""
    cases_dir = root / "cases"
    logs = root / "logs"
    logs.mkdir(parents=True)
    cache = root / "cache"
    spec_cases, before = [], {}
    for case in CASES:
        d = case.prepare(cases_dir)
        before[case.id] = _snapshot(d)
        env = {"COLUMNS": str(columns), **case.env}
        if "HER2LAB_CACHE" in case.env:
            env["HER2LAB_CACHE"] = str(d / case.env["HER2LAB_CACHE"])
        spec_cases.append({"id": case.id, "argv": case.argv, "cwd": str(d), "env": env,
                           "timeout": case.timeout,
                           "unset": [] if "FORCE_COLOR" in case.env else
                           ["FORCE_COLOR", "HER2LAB_DEBUG", "HER2LAB_KB_DIR"]})
    spec = {"cases": spec_cases, "logs": str(logs),
            "env": {"HER2LAB_CACHE": str(cache), "NO_COLOR": ""},
            "preload": ["numpy", "pydantic", "libsbml", "her2lab.boolnet",
                        "her2lab.boolnet.formats.sbmlqual", "her2lab.virtual_trials"]}
    spec_path, results_path = root / "spec.json", root / "results.json"
    spec_path.write_text(json.dumps(spec))
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "HER2LAB_DEBUG")}
    subprocess.run([sys.executable, str(HERE / "hostile_runner.py"), str(spec_path),
                    str(results_path)], check=True, env=env, timeout=900)
    results = json.loads(results_path.read_text())
    after = {c.id: _snapshot(cases_dir / c.id) for c in CASES}
    return {"results": results, "before": before, "after": after}


@pytest.fixture(scope="module")
def narrow_long(tmp_path_factory) -> dict:
    """Every case at COLUMNS=40 from a directory whose path is longer than 150 characters."""
    root = tmp_path_factory.mktemp("hostile")
    for part in ("a-rather-long-directory-name-" * 2, "that-keeps-going-" * 3, "and-going"):
        root = root / part
    assert len(str(root / "cases" / "x")) >= 150
    return _run(root, 40)


@pytest.fixture(scope="module")
def wide_short(tmp_path_factory) -> dict:
    return _run(tmp_path_factory.mktemp("h"), 250)


def _check(run: dict, case: Case) -> None:
    r = run["results"][case.id]
    err, out = r["err"], r["out"]
    shown = f"exit {r['code']}\n--- stderr:\n{err[-3000:]}\n--- stdout:\n{out[-1500:]}"
    assert not r["timed_out"], f"ran past {case.timeout} s\n{shown}"
    assert r["code"] == case.code, shown
    assert "Traceback" not in err and "Traceback" not in out, shown
    for word in case.err:
        assert word in err, f"{word!r} not in the message\n{shown}"
    for word in case.out:
        assert word in out, f"{word!r} not in the output\n{shown}"
    for word in case.not_out:
        assert word not in out, f"{word!r} in the output\n{shown}"
    if case.err_lines is not None:
        assert len(err.strip().splitlines()) == case.err_lines, shown
    if case.code == OK:  # warnings (RuntimeWarning, ...) are handled or become errors
        assert "Warning" not in err, shown
    assert not r["out_has_escape"], f"terminal escape codes in the output\n{shown}"
    if case.json_out:
        json.loads(out)
    if case.code != OK:
        assert err.strip(), shown
        assert "internal error" not in err, shown
        assert run["after"][case.id] == run["before"][case.id], "the case wrote files"


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.klass}-{c.id}")
def test_at_40_columns_from_a_long_path(narrow_long: dict, case: Case):
    _check(narrow_long, case)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.klass}-{c.id}")
def test_in_a_wide_terminal(wide_short: dict, case: Case):
    _check(wide_short, case)


def test_every_class_has_cases():
    counts = {k: sum(c.klass == k for c in CASES) for k in CLASS}
    assert all(n >= 3 for n in counts.values()), counts
    assert len({c.id for c in CASES}) == len(CASES)
