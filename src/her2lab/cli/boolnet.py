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
#: keeps no per-trajectory state, so memory does not grow with the trajectories (MaBoSS users
#: run millions): the bound is the largest count a float64 (the estimates' divisor) holds
#: exactly. What does grow with memory (windows x tracked nodes x chunks) is checked against
#: the memory available, see :func:`_check_memory`.
MAX_SAMPLES = 2**53

#: Share of the memory available that one run may plan to use.
MEMORY_SHARE = 0.5

#: Bytes per number of the JSON output while it is built (a Python float in a list, then its
#: text with the indentation).
JSON_BYTES_PER_VALUE = 96


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
    samples: int | None = typer.Option(
        None, "--samples", min=1, max=MAX_SAMPLES,
        help="Trajectories (default 1000; memory does not grow with them)."),
    max_time: float | None = typer.Option(
        None, "--max-time", min=0,
        help="Simulated time (10). Windows (max-time / time-tick) times tracked nodes must "
        "fit in memory; checked before the run."),
    time_tick: float | None = typer.Option(None, "--time-tick", min=0,
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
        max_time=_setting(max_time, conf, "max_time", 10.0, float, 0, None, where),
        time_tick=_setting(time_tick, conf, "time_tick", 0.5, float, 0, None, where),
        threads=_setting(threads, conf, "thread_count", 1, int, 1, 1024, where),
        outputs=output or None,
        keep_final_states=False,
        nodes=shown,
        discrete_time=bool(_setting(None, conf, "discrete_time", 0, int, 0, 1, where)),
    )
    run_seed = _setting(seed, conf, "seed_pseudorandom", 0, int, 0, 2**63 - 1, where)
    _check_memory(sim, len(shown), fmt == "json")
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


def available_memory() -> int:
    """Bytes of memory this process can use now: the kernel's MemAvailable (or the free
    physical pages), no more than an address-space limit (``ulimit -v``)."""
    import os
    import resource

    avail = None
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError):
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            avail = 4 << 30
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        avail = min(avail, soft)
    return int(avail)


def _gib(n: float) -> str:
    return f"{n / 2**30:.3g} GiB" if n >= 2**30 else f"{n / 2**20:.3g} MiB"


def _check_memory(sim, n_shown: int, json_out: bool) -> None:
    """Refuse, before any work, a run whose arrays (and JSON output) cannot fit in
    :data:`MEMORY_SHARE` of the memory available, saying the limit and how to stay within it."""
    import math

    from her2lab.errors import SimulationError

    sim._check()  # max_time and time_tick > 0 (the simulator's own message)
    need = sim.memory_bytes()
    windows = math.floor(float(sim.max_time) / float(sim.time_tick) + 1e-9)
    if json_out:
        need += (windows + 1) * (n_shown + 1) * JSON_BYTES_PER_VALUE
    budget = int(available_memory() * MEMORY_SHARE)
    if need <= budget:
        return
    per_window = need / max(windows, 1)
    most = max(1, int(budget / per_window))
    raise SimulationError(
        f"boolnet simulate: max_time {sim.max_time:g} / time_tick {sim.time_tick:g} gives "
        f"{windows:,} averaging windows; with {n_shown} tracked node(s) and {sim._n_chunks()} "
        f"chunk(s) the run needs about {_gib(need)}, more than the limit of {_gib(budget)} "
        f"({MEMORY_SHARE:.0%} of the {_gib(budget / MEMORY_SHARE)} of memory available). "
        f"Stay within about {most:,} windows: a --time-tick of at least "
        f"{float(sim.max_time) / most:.3g}, a shorter --max-time, fewer --output nodes or "
        "fewer --threads (memory does not depend on --samples).")


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

    outputs = [target]
    if target.suffix.lower() == ".bnd":
        outputs.append(target.with_suffix(".cfg"))
    inputs = [source, cfg]
    if source.suffix.lower() == ".bnd" and cfg is None:
        inputs.append(source.with_suffix(".cfg"))
    check_not_input(outputs, inputs, option="OUT")  # first: before any probe of a directory
    for path in outputs:
        check_output_file(path, option="OUT")
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
