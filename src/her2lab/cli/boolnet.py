"""``her2lab boolnet ...``: commands of the logical network engine.

::

    her2lab boolnet simulate MODEL [--cfg CFG] [--samples N] [--max-time T] [--time-tick DT]
                             [--seed S] [--threads K] [--mutate NODE=ON|OFF ...]
                             [--output NODE ...] --format json|table
    her2lab boolnet convert IN OUT                formats by extension (.bnet .bnd .sbml .xml)
    her2lab boolnet attractors MODEL --format json|table

MODEL is a ``.bnet`` (rates 1, initial P(ON) 0.5), a ``.bnd`` (with ``--cfg`` or the ``.cfg``
beside it, whose ``sample_count``, ``max_time``, ``time_tick``, ``thread_count`` and
``seed_pseudorandom`` are the defaults) or SBML-qual (``.sbml``/``.xml``).
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from her2lab.cli._io import check_not_input, check_output_file, console, format_option, note

app = typer.Typer(no_args_is_help=True)

#: Most trajectories one command simulates (from an option or a .cfg's sample_count). The CLI
#: keeps no per-trajectory state, so memory does not grow with it; the bound is on time.
MAX_SAMPLES = 100_000_000


class Update(StrEnum):
    asynchronous = "asynchronous"
    synchronous = "synchronous"


class Method(StrEnum):
    auto = "auto"
    exact = "exact"
    mpbn = "mpbn"


def _console(stderr: bool = False) -> Console:
    return console(stderr=stderr)  # never truncated when written to a file


def _pairs(items: list[str], option: str) -> dict[str, str]:
    out = {}
    for item in items:
        if "=" not in item:
            raise typer.BadParameter(f"expected NODE=VALUE, got {item!r}", param_hint=option)
        node, value = item.split("=", 1)
        out[node.strip()] = value.strip()
    return out


def _load(model: Path, cfg: Path | None, undefined_as_input: bool):
    from her2lab.boolnet import read_model

    if cfg is not None and model.suffix.lower() != ".bnd":
        raise typer.BadParameter(
            f"a .cfg goes with a MaBoSS .bnd model; {model} is not one", param_hint="--cfg")

    return read_model(model, cfg, undefined="input" if undefined_as_input else "error")


def _setting(value, config: dict[str, str], key: str, default, cast, low=0, high=None,
             where: str = ".cfg"):
    """The option's value, else the model's .cfg setting ``key``, else ``default``; a .cfg
    value that is not a number in [low, high] is an error naming the setting."""
    from her2lab.errors import ModelDefinitionError

    if value is not None:
        return value
    if key not in config:
        return default
    text = str(config[key]).strip()
    try:
        number = float(text)
        result = cast(number)
        if cast is int and result != number:
            raise ValueError
    except (ValueError, OverflowError):
        kind = "an integer" if cast is int else "a number"
        raise ModelDefinitionError(
            f"{where}: setting {key}: expected {kind}; found {text!r}") from None
    if result < low or (high is not None and result > high):
        bound = f"at least {low}" if high is None else f"in [{low}, {high}]"
        raise ModelDefinitionError(f"{where}: setting {key}: expected {bound}; found {text}")
    return result


_UNDEFINED = typer.Option(
    False, "--undefined-as-input",
    help="bnet: treat nodes that rules read but no line defines as inputs (X, X).",
)


@app.command()
def simulate(
    model: Path = typer.Argument(..., help="Model file: .bnet, .bnd, .sbml or .xml."),
    cfg: Path | None = typer.Option(None, "--cfg", help="MaBoSS .cfg of a .bnd model."),
    samples: int | None = typer.Option(None, "--samples", min=1, max=1_000_000,
                                       help="Trajectories (default 1000)."),
    max_time: float | None = typer.Option(None, "--max-time", min=0, max=1e9,
                                          help="Simulated time (10)."),
    time_tick: float | None = typer.Option(None, "--time-tick", min=1e-9, max=1e9,
                                           help="Window width (0.5)."),
    seed: int | None = typer.Option(None, "--seed", min=0, max=2**32 - 1, help="Random seed (0)."),
    threads: int | None = typer.Option(None, "--threads", min=1, max=1024,
                                       help="Parallel chunks (1)."),
    mutate: list[str] = typer.Option(
        [], "--mutate", help="Force a node: NODE=ON or NODE=OFF (repeatable)."
    ),
    output: list[str] = typer.Option(
        [], "--output", help="Output node whose states are tracked (repeatable)."
    ),
    fmt: str = format_option("table", "json"),
    undefined_as_input: bool = _UNDEFINED,
) -> None:
    """Continuous-time stochastic simulation with MaBoSS semantics."""
    if _console_script():
        import gc

        gc.disable()  # a short-lived process: collecting while numba loads costs ~0.2 s
        # numba probes for a BLAS (importing scipy.linalg, ~0.2 s) and for cffi at import;
        # the kernel uses neither, and this process runs nothing else before it exits
        sys.modules.setdefault("scipy.linalg", None)  # type: ignore[arg-type]
        sys.modules.setdefault("cffi", None)  # type: ignore[arg-type]
    from her2lab.boolnet import StochasticSimulator

    m = _load(model, cfg, undefined_as_input)
    fixed = _pairs(mutate, "--mutate")
    if fixed:
        m = m.perturbed(fixed=fixed)
    conf = m.config
    # what is printed, as MaBoSS reports it: the output nodes (default: the non-internal ones)
    shown = output or [n.name for n in m if not n.internal] or m.node_names
    where = str(cfg or model.with_suffix(".cfg"))
    sim = StochasticSimulator(
        m,
        samples=_setting(samples, conf, "sample_count", 1000, int, 1, MAX_SAMPLES, where),
        max_time=_setting(max_time, conf, "max_time", 10.0, float, 0, 1e9, where),
        time_tick=_setting(time_tick, conf, "time_tick", 0.5, float, 1e-9, 1e9, where),
        threads=_setting(threads, conf, "thread_count", 1, int, 1, 1024, where),
        outputs=output or None,
        keep_final_states=False,
        nodes=shown,
        discrete_time=bool(_setting(None, conf, "discrete_time", 0, int, 0, 1, where)),
    )
    run_seed = _setting(seed, conf, "seed_pseudorandom", 0, int, 0, 2**63 - 1, where)
    what = Text(f"simulating {sim.samples} trajectories of {m.name}")
    with _console(stderr=True).status(what):
        result = sim.run(seed=run_seed)
    if fmt == "json":
        sys.stdout.write(json.dumps(result.to_dict(nodes=shown), indent=2) + "\n")
        _fast_exit()
        return
    con = _console()
    table = Table(title=f"{m.name}: P(ON) in the last window, t = {result.times[-1]:g}"
                  f"-{result.max_time:g}, {result.samples} trajectories")
    table.add_column("node")
    table.add_column("P(ON)", justify="right")
    table.add_column("± s.e.", justify="right")
    for node in shown:
        p = result.final[node]
        table.add_row(node, f"{p:.4f}", f"{float(result.standard_error(p)):.4f}")
    con.print(table)
    states = result.final_state_probabilities
    if states:
        st = Table(title="most probable states (output nodes), last window")
        st.add_column("state")
        st.add_column("P", justify="right")
        for label, p in list(states.items())[:10]:
            st.add_row(label, f"{p:.4f}")
        con.print(st)
    elif "states" in result.settings:
        con.print(f"states {result.settings['states']}")
    _fast_exit()


def _console_script() -> bool:
    """Whether this process is the ``her2lab`` console script (not a command called
    in-process, as tests do)."""
    return Path(sys.argv[0]).name == "her2lab" and "pytest" not in sys.modules


def _fast_exit() -> None:
    """End the ``her2lab`` process at once once its output is written: tearing down numba's
    and LLVM's state costs a tenth of a second and writes nothing. Only in the console
    script itself (never when the command is called in-process, as tests do)."""
    if not _console_script():
        return
    import os

    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


@app.command()
def convert(
    source: Path = typer.Argument(..., metavar="IN", help="Model to read (.bnet .bnd .sbml .xml)."),
    target: Path = typer.Argument(..., metavar="OUT", help="File to write, format by extension."),
    cfg: Path | None = typer.Option(None, "--cfg", help="MaBoSS .cfg of a .bnd input."),
    undefined_as_input: bool = _UNDEFINED,
) -> None:
    """Convert a model between bnet, MaBoSS (.bnd + .cfg) and SBML-qual."""
    from her2lab.boolnet import write_model

    check_output_file(target, option="OUT")
    outputs = [target]
    if target.suffix.lower() == ".bnd":
        check_output_file(target.with_suffix(".cfg"), option="OUT")
        outputs.append(target.with_suffix(".cfg"))
    inputs = [source, cfg]
    if source.suffix.lower() == ".bnd" and cfg is None:
        inputs.append(source.with_suffix(".cfg"))
    check_not_input(outputs, inputs, option="OUT")
    m = _load(source, cfg, undefined_as_input)
    written = write_model(m, target)
    note("wrote " + ", ".join(str(p) for p in written))


@app.command()
def attractors(
    model: Path = typer.Argument(..., help="Model file: .bnet, .bnd, .sbml or .xml."),
    cfg: Path | None = typer.Option(None, "--cfg", help="MaBoSS .cfg of a .bnd model."),
    update: Update = typer.Option(Update.asynchronous, "--update", help="Update mode."),
    method: Method = typer.Option(Method.auto, "--method", help="auto, exact or mpbn."),
    fix: list[str] = typer.Option([], "--fix", help="Hold a node: NODE=1 or NODE=0."),
    mutate: list[str] = typer.Option([], "--mutate", help="Force a node: NODE=ON|OFF."),
    fmt: str = format_option("table", "json"),
    undefined_as_input: bool = _UNDEFINED,
) -> None:
    """Steady states and cyclic attractors (exact for small networks, mpbn for larger)."""
    from her2lab.boolnet import attractors as find

    m = _load(model, cfg, undefined_as_input)
    fixed = {**_pairs(mutate, "--mutate"), **_pairs(fix, "--fix")}
    with _console(stderr=True).status("searching attractors"):
        found = find(m, update=update.value, method=method.value, fixed=fixed or None)
    n_free = len(m) - len(m.perturbed(fixed=fixed).fixed) if fixed else len(m) - len(m.fixed)
    used = method.value
    if used == "auto":
        from her2lab.boolnet.attractors import MAX_EXACT_NODES

        used = "exact" if n_free <= MAX_EXACT_NODES else "mpbn"
    if fmt == "json":
        doc = {
            "model": m.name,
            "update": update.value,
            "method": used,
            "fixed": fixed,
            "attractors": [a.to_dict() for a in found],
        }
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return
    table = Table(title=f"{m.name}: {len(found)} attractor(s), {update.value}, {used}")
    table.add_column("#", justify="right")
    table.add_column("kind")
    table.add_column("states", justify="right")
    table.add_column("ON (* = varies)")
    for k, a in enumerate(found, start=1):
        on = [n for n, v in a.pattern.items() if v == 1] + [
            f"{n}*" for n, v in a.pattern.items() if v == "*"
        ]
        table.add_row(str(k), a.kind, "-" if a.size is None else str(a.size),
                      " ".join(on) or "(all OFF)")
    _console().print(table)
