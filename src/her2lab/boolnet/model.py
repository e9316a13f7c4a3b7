"""The logical model: nodes, rules, rates, initial states, and perturbations.

A :class:`Model` holds what a MaBoSS ``.bnd`` and the model part of a ``.cfg`` hold: for each
node a Boolean ``logic`` rule, an up rate and a down rate (MaBoSS rate expressions, which may
depend on the state and on ``@logic``), the probability of being ON at time 0, and whether
the node is internal (left out of state distributions). Groups of nodes may share a joint
initial distribution (MaBoSS ``[A, B].istate = ...``). ``$parameters`` are model-wide.

Perturbations never change the rules: a knock-out or knock-in forces a node's value, and a
rate factor multiplies the node's up or down rate (graded inhibition or activation). Apply them
to a copy with :meth:`Model.perturbed`, or for one block with ``with model.perturb(...):``;
either way the next run sees the unperturbed model.
"""

from __future__ import annotations

import copy as _copy
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from math import isfinite

from her2lab.boolnet.expr import Cond, Const, Expr, Logic, Var, parse_expr, to_maboss
from her2lab.errors import ModelDefinitionError, UnknownIdError

__all__ = ["DEFAULT_RATE_DOWN", "DEFAULT_RATE_UP", "JointInitial", "Model", "Node"]

DEFAULT_RATE_UP: Expr = Cond(Logic(), Const(1.0), Const(0.0))
"""MaBoSS's default up rate: ``@logic ? 1.0 : 0.0``."""
DEFAULT_RATE_DOWN: Expr = Cond(Logic(), Const(0.0), Const(1.0))
"""MaBoSS's default down rate: ``@logic ? 0.0 : 1.0``."""


def _as_expr(value: Expr | str, *, boolean: bool, what: str) -> Expr:
    if isinstance(value, Expr):
        return value
    if isinstance(value, str):
        return parse_expr(value, boolean=boolean, source=what)
    if isinstance(value, bool | int | float):
        return Const(float(value))
    raise TypeError(f"{what} must be an expression or a string; got {type(value).__name__}")


@dataclass(frozen=True)
class Node:
    """One node of a logical model.

    Attributes
    ----------
    name : str
        The node's name, as rules and rates refer to it.
    logic : Expr
        The Boolean rule giving the value the node moves towards.
    rate_up : Expr
        MaBoSS rate expression applied while the node is OFF; the default flips it ON at rate 1
        (per unit of model time) when ``logic`` is true.
    rate_down : Expr
        MaBoSS rate expression applied while the node is ON; the default flips it OFF at rate 1
        when ``logic`` is false.
    initial : float
        P(ON) at time 0, in [0, 1] (default 0.5).
    internal : bool
        Simulated but left out of state distributions, as in MaBoSS (default False).
    description : str
        Free text kept with the node (a MaBoSS ``description`` or a bnet comment).
    """

    name: str
    logic: Expr
    rate_up: Expr = DEFAULT_RATE_UP
    rate_down: Expr = DEFAULT_RATE_DOWN
    initial: float = 0.5
    internal: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "logic", _as_expr(self.logic, boolean=True,
                                                    what=f"logic of {self.name}"))
        object.__setattr__(self, "rate_up", _as_expr(self.rate_up, boolean=False,
                                                      what=f"rate_up of {self.name}"))
        object.__setattr__(self, "rate_down", _as_expr(self.rate_down, boolean=False,
                                                        what=f"rate_down of {self.name}"))

    @property
    def is_input(self) -> bool:
        """An input is declared as a self-loop (``X, X``): its rule keeps its value."""
        return self.logic == Var(self.name)

    def reads(self) -> set[str]:
        """Nodes read by the rule or the rates of this node.

        Returns
        -------
        set of str
            The names of the nodes that ``logic``, ``rate_up`` and ``rate_down`` refer to.
        """
        return self.logic.variables() | self.rate_up.variables() | self.rate_down.variables()


@dataclass(frozen=True)
class JointInitial:
    """A joint initial distribution over several nodes.

    MaBoSS writes it ``[A, B].istate = 0.3 [1, 0], 0.7 [0, 1];``.

    Attributes
    ----------
    nodes : tuple of str
        The nodes the distribution covers, in the order of the value tuples.
    options : tuple of (float, tuple of int)
        ``(probability, values)`` pairs: with that probability the nodes start at those 0/1
        values. Probabilities are in [0, 1] and sum to 1 (checked by :meth:`Model.validate`).
    """

    nodes: tuple[str, ...]
    options: tuple[tuple[float, tuple[int, ...]], ...]


@dataclass
class _Perturbations:
    fixed: dict[str, bool] = field(default_factory=dict)
    up_factor: dict[str, float] = field(default_factory=dict)
    down_factor: dict[str, float] = field(default_factory=dict)


_ON_WORDS = {"ON": True, "1": True, "TRUE": True, "KI": True}
_OFF_WORDS = {"OFF": False, "0": False, "FALSE": False, "KO": False}


def _parse_fixed(value: object, node: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        key = value.strip().upper()
        if key in _ON_WORDS:
            return True
        if key in _OFF_WORDS:
            return False
    raise ModelDefinitionError(
        f"the value forced on node {node!r} must be ON or OFF (or True/False, 1/0); "
        f"got {value!r} instead"
    )


class Model:
    """A logical model with MaBoSS semantics.

    Build one from nodes, or read one with ``read_bnet``, ``read_maboss``, ``read_sbmlqual``::

        model = Model.from_rules({"A": "!B", "B": "A"}, initial={"A": 1.0})
        with model.perturb(knock_out=["B"], up_factor={"A": 0.3}):
            ...  # perturbed here only

    Parameters
    ----------
    nodes : iterable of Node, optional
        The nodes, in model order; names must be unique.
    parameters : mapping of str to float, optional
        Values of the ``$parameters`` that rates refer to.
    joint_initial : iterable of JointInitial, optional
        Joint initial distributions over groups of nodes; a node in a group ignores its own
        ``initial``.
    name : str, optional
        The model's name (default ``"model"``), used in messages and written files.
    config : mapping of str to str, optional
        Run settings read from a MaBoSS ``.cfg`` (``sample_count``, ``max_time``, ...), kept so
        that a model read from MaBoSS files writes back with them.

    Raises
    ------
    ModelDefinitionError
        If two nodes have the same name.
    """

    def __init__(
        self,
        nodes: Iterable[Node] = (),
        *,
        parameters: Mapping[str, float] | None = None,
        joint_initial: Iterable[JointInitial] = (),
        name: str = "model",
        config: Mapping[str, str] | None = None,
    ) -> None:
        self._nodes: dict[str, Node] = {}
        for node in nodes:
            if node.name in self._nodes:
                raise ModelDefinitionError(f"node {node.name!r} is defined twice")
            self._nodes[node.name] = node
        self.parameters: dict[str, float] = dict(parameters or {})
        self.joint_initial: list[JointInitial] = list(joint_initial)
        self.name = name
        self.config: dict[str, str] = dict(config or {})
        self._pert = _Perturbations()

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_rules(
        cls,
        rules: Mapping[str, str | Expr],
        *,
        initial: Mapping[str, float] | float = 0.5,
        rate_up: Mapping[str, str | Expr] | None = None,
        rate_down: Mapping[str, str | Expr] | None = None,
        parameters: Mapping[str, float] | None = None,
        name: str = "model",
    ) -> Model:
        """Build a model from ``{node: rule}``.

        Parameters
        ----------
        rules : mapping of str to str or Expr
            The Boolean rule of each node, as text (``"A & !B"``) or a parsed expression; the
            mapping's order is the model's node order.
        initial : mapping of str to float, or float, optional
            P(ON) at time 0, for every node (a float) or per node (a mapping; nodes left out get
            0.5). Default 0.5.
        rate_up, rate_down : mapping of str to str or Expr, optional
            MaBoSS rate expressions per node; nodes left out get MaBoSS's defaults (flip at rate 1
            towards the rule's value).
        parameters : mapping of str to float, optional
            Values of the ``$parameters`` that rates refer to.
        name : str, optional
            The model's name (default ``"model"``).

        Returns
        -------
        Model
            The new model, validated.

        Raises
        ------
        ExprSyntaxError
            If a rule or rate does not parse.
        ModelDefinitionError
            If the model does not validate (see :meth:`validate`).
        """
        nodes = []
        for target, rule in rules.items():
            p = initial.get(target, 0.5) if isinstance(initial, Mapping) else initial
            nodes.append(
                Node(
                    target,
                    _as_expr(rule, boolean=True, what=f"rule of {target}"),
                    rate_up=(rate_up or {}).get(target, DEFAULT_RATE_UP),
                    rate_down=(rate_down or {}).get(target, DEFAULT_RATE_DOWN),
                    initial=float(p),
                )
            )
        return cls(nodes, parameters=parameters, name=name).validate()

    # ------------------------------------------------------------------ access
    @property
    def nodes(self) -> dict[str, Node]:
        """Nodes by name, in model order (a read-only view: use :meth:`set_node` to change)."""
        return dict(self._nodes)

    @property
    def node_names(self) -> list[str]:
        return list(self._nodes)

    @property
    def inputs(self) -> list[str]:
        """Nodes declared as inputs (self-loops ``X, X``)."""
        return [n for n, node in self._nodes.items() if node.is_input]

    def __len__(self) -> int:
        return len(self._nodes)

    def __iter__(self) -> Iterator[Node]:
        return iter(self._nodes.values())

    def __contains__(self, name: object) -> bool:
        return name in self._nodes

    def __getitem__(self, name: str) -> Node:
        return self._nodes[self._check_node(name)]

    def __repr__(self) -> str:
        pert = self.perturbations
        extra = f", perturbations={pert}" if any(pert.values()) else ""
        return f"<Model {self.name!r}: {len(self)} nodes{extra}>"

    def set_node(self, node: Node) -> None:
        """Add a node, or replace the node of the same name (rules are data; this is an edit).

        Parameters
        ----------
        node : Node
            The node to add; one with the same ``name`` is replaced in place, keeping its position.
        """
        self._nodes[node.name] = node

    def remove_node(self, name: str) -> None:
        """Remove a node from the model.

        Rules that read it are left as they are: :meth:`validate` reports them.

        Parameters
        ----------
        name : str
            The name of the node to remove.

        Raises
        ------
        UnknownIdError
            If the model has no node of that name.
        """
        del self._nodes[self._check_node(name)]

    def _check_node(self, name: str) -> str:
        if name not in self._nodes:
            raise UnknownIdError("node", name, list(self._nodes))
        return name

    # ------------------------------------------------------------------ perturbations
    @property
    def perturbations(self) -> dict[str, dict[str, float | bool]]:
        """Perturbations in force: ``fixed`` (node -> ON/OFF), ``up_factor``, ``down_factor``."""
        return {
            "fixed": dict(self._pert.fixed),
            "up_factor": dict(self._pert.up_factor),
            "down_factor": dict(self._pert.down_factor),
        }

    @property
    def fixed(self) -> dict[str, bool]:
        """Nodes forced ON (True) or OFF (False) by a knock-in or knock-out."""
        return dict(self._pert.fixed)

    def rate_factors(self, name: str) -> tuple[float, float]:
        """The factors that perturbations apply to a node's rates.

        Parameters
        ----------
        name : str
            The node's name.

        Returns
        -------
        tuple of (float, float)
            The ``(up, down)`` multiplicative factors, 1.0 when unperturbed.
        """
        return self._pert.up_factor.get(name, 1.0), self._pert.down_factor.get(name, 1.0)

    def _validated_perturbations(
        self,
        knock_out: Iterable[str],
        knock_in: Iterable[str],
        fixed: Mapping[str, object] | None,
        up_factor: Mapping[str, float] | None,
        down_factor: Mapping[str, float] | None,
    ) -> _Perturbations:
        # Validate everything before changing anything.
        if isinstance(knock_out, str) or isinstance(knock_in, str):
            raise TypeError("knock_out and knock_in take a list of node names, not one string")
        new = _Perturbations(
            dict(self._pert.fixed), dict(self._pert.up_factor), dict(self._pert.down_factor)
        )
        for n in knock_out:
            new.fixed[self._check_node(n)] = False
        for n in knock_in:
            new.fixed[self._check_node(n)] = True
        for n, v in (fixed or {}).items():
            new.fixed[self._check_node(n)] = _parse_fixed(v, n)
        for which, factors, target in (
            ("up_factor", up_factor, new.up_factor),
            ("down_factor", down_factor, new.down_factor),
        ):
            for n, f in (factors or {}).items():
                self._check_node(n)
                if not (isinstance(f, int | float) and isfinite(f) and f >= 0):
                    raise ModelDefinitionError(
                        f"the {which} of node {n!r} must be a finite number >= 0; got {f!r} "
                        "instead"
                    )
                target[n] = target.get(n, 1.0) * float(f)
        return new

    def perturbed(
        self,
        *,
        knock_out: Iterable[str] = (),
        knock_in: Iterable[str] = (),
        fixed: Mapping[str, object] | None = None,
        up_factor: Mapping[str, float] | None = None,
        down_factor: Mapping[str, float] | None = None,
    ) -> Model:
        """A copy of the model with perturbations added; this model is left unchanged.

        Factors compose by multiplication with any already in force; a forced value wins over
        factors. Everything is validated before anything changes.

        Parameters
        ----------
        knock_out : iterable of str, optional
            Nodes forced OFF (a list of names, not one string).
        knock_in : iterable of str, optional
            Nodes forced ON.
        fixed : mapping of str to object, optional
            Nodes forced to a value: ``ON``/``OFF``, ``True``/``False`` or ``1``/``0``
            (``{"X": "ON"}``).
        up_factor : mapping of str to float, optional
            Multipliers of a node's up rate: 0 blocks, 0.3 is a 70% inhibition, 2 doubles; finite
            and >= 0.
        down_factor : mapping of str to float, optional
            Multipliers of a node's down rate, as ``up_factor``.

        Returns
        -------
        Model
            The perturbed copy.

        Raises
        ------
        UnknownIdError
            If a perturbation names a node the model lacks.
        ModelDefinitionError
            If a forced value is not ON/OFF or a factor is negative or not finite.
        """
        new = self._validated_perturbations(knock_out, knock_in, fixed, up_factor, down_factor)
        other = self.copy()
        other._pert = new
        return other

    @contextmanager
    def perturb(
        self,
        *,
        knock_out: Iterable[str] = (),
        knock_in: Iterable[str] = (),
        fixed: Mapping[str, object] | None = None,
        up_factor: Mapping[str, float] | None = None,
        down_factor: Mapping[str, float] | None = None,
    ) -> Iterator[Model]:
        """Apply perturbations to this model for the ``with`` block only.

        They are undone on exit, also when the block raises.

        Parameters
        ----------
        knock_out, knock_in : iterable of str, optional
            Nodes forced OFF / ON, as in :meth:`perturbed`.
        fixed : mapping of str to object, optional
            Nodes forced to ON/OFF, as in :meth:`perturbed`.
        up_factor, down_factor : mapping of str to float, optional
            Multipliers of a node's up / down rate (finite, >= 0), as in :meth:`perturbed`.

        Yields
        ------
        Model
            This model, perturbed until the block ends.

        Raises
        ------
        UnknownIdError
            If a perturbation names a node the model lacks.
        ModelDefinitionError
            If a forced value is not ON/OFF or a factor is negative or not finite.
        """
        new = self._validated_perturbations(knock_out, knock_in, fixed, up_factor, down_factor)
        saved = self._pert
        self._pert = new
        try:
            yield self
        finally:
            self._pert = saved

    def unperturbed(self) -> Model:
        """A copy without any perturbation.

        Returns
        -------
        Model
            The copy, with no node forced and every rate factor 1.
        """
        other = self.copy()
        other._pert = _Perturbations()
        return other

    # ------------------------------------------------------------------ copies, identity
    def copy(self) -> Model:
        """A copy of the model that shares no mutable state with it.

        Returns
        -------
        Model
            The copy, with the same nodes, parameters, settings and perturbations.
        """
        other = Model(
            self._nodes.values(),
            parameters=self.parameters,
            joint_initial=self.joint_initial,
            name=self.name,
            config=self.config,
        )
        other._pert = _copy.deepcopy(self._pert)
        return other

    def with_initial(self, initial: Mapping[str, float]) -> Model:
        """A copy with new initial P(ON) for some nodes.

        A joint initial group that holds one of them is dropped: its other nodes fall back to their
        own initial probabilities.

        Parameters
        ----------
        initial : mapping of str to float
            The new P(ON) at time 0 per node, in [0, 1].

        Returns
        -------
        Model
            The validated copy.

        Raises
        ------
        UnknownIdError
            If a node is not in the model.
        ModelDefinitionError
            If a probability is outside [0, 1].
        """
        other = self.copy()
        for n, p in initial.items():
            other._nodes[other._check_node(n)] = replace(other._nodes[n], initial=float(p))
        touched = set(initial)
        other.joint_initial = [g for g in other.joint_initial if not touched & set(g.nodes)]
        return other.validate()

    def fingerprint(self) -> str:
        """A hash of everything that changes a simulation.

        Rules, rates, initial states, parameters and perturbations count; the name and run settings
        do not.

        Returns
        -------
        str
            A hexadecimal digest, equal for models that simulate the same.
        """
        h = hashlib.sha256()
        grouped = {n for g in self.joint_initial for n in g.nodes}
        for node in self._nodes.values():
            # a node in a joint initial group takes its initial state from the group
            initial = "joint" if node.name in grouped else repr(node.initial)
            h.update(
                f"{node.name}|{to_maboss(node.logic)}|{to_maboss(node.rate_up)}|"
                f"{to_maboss(node.rate_down)}|{initial}|{node.internal}\n".encode()
            )
        h.update(repr(sorted(self.parameters.items())).encode())
        h.update(repr([(g.nodes, g.options) for g in self.joint_initial]).encode())
        h.update(repr(sorted(self._pert.fixed.items())).encode())
        h.update(repr(sorted(self._pert.up_factor.items())).encode())
        h.update(repr(sorted(self._pert.down_factor.items())).encode())
        return h.hexdigest()

    def same_definition(self, other: Model) -> bool:
        """Whether two models define the same network (compares fingerprints).

        Parameters
        ----------
        other : Model
            The model to compare with.

        Returns
        -------
        bool
            True when :meth:`fingerprint` is the same for both.
        """
        return self.fingerprint() == other.fingerprint()

    # ------------------------------------------------------------------ validation
    def validate(self) -> Model:
        """Check the model and report every problem found at once.

        Checks: nodes read by rules and rates exist; ``$parameters`` are defined; initial
        probabilities are in [0, 1]; joint initial groups name existing nodes, do not overlap and
        have probabilities in [0, 1] that sum to 1; constant rates are not negative.

        Returns
        -------
        Model
            This model, so that calls chain.

        Raises
        ------
        ModelDefinitionError
            Listing every problem found.
        """
        problems: list[str] = []
        names = self._nodes
        for node in self._nodes.values():
            missing = sorted(node.reads() - names.keys())
            for m in missing:
                hint = ""
                if m in node.logic.variables():
                    hint = f" (declare it as an input with the rule '{m}, {m}' if it is one)"
                problems.append(f"node {node.name!r} reads undefined node {m!r}{hint}")
            if node.logic.uses_logic():
                problems.append(f"the logic of node {node.name!r} uses @logic")
            for which, expr in (("rate_up", node.rate_up), ("rate_down", node.rate_down)):
                for p in sorted(expr.parameters() - self.parameters.keys()):
                    problems.append(
                        f"the {which} of node {node.name!r} uses undefined parameter ${p}"
                    )
                if isinstance(expr, Const) and not (expr.value >= 0 and isfinite(expr.value)):
                    problems.append(
                        f"the {which} of node {node.name!r} must be >= 0; got {expr.value!r}"
                    )
            if not (0.0 <= node.initial <= 1.0):
                problems.append(
                    f"the initial probability of node {node.name!r} must be in [0, 1]; "
                    f"got {node.initial!r}"
                )
        for pname, value in self.parameters.items():
            if not isinstance(value, int | float) or not isfinite(value):
                problems.append(f"parameter ${pname} must be a finite number; got {value!r}")
        seen: set[str] = set()
        for group in self.joint_initial:
            label = "[" + ", ".join(group.nodes) + "]"
            for n in group.nodes:
                if n not in names:
                    problems.append(f"joint initial state {label} names undefined node {n!r}")
                if n in seen:
                    problems.append(f"node {n!r} is in more than one joint initial state")
                seen.add(n)
            total = 0.0
            for p, values in group.options:
                if not (0.0 <= p <= 1.0):
                    problems.append(
                        f"a probability of joint initial state {label} must be in [0, 1]; "
                        f"got {p!r}"
                    )
                if len(values) != len(group.nodes) or any(v not in (0, 1) for v in values):
                    problems.append(
                        f"joint initial state {label}: each option needs {len(group.nodes)} "
                        f"values of 0 or 1; got {list(values)}"
                    )
                total += p
            if abs(total - 1.0) > 1e-9:
                problems.append(
                    f"the probabilities of joint initial state {label} must sum to 1; "
                    f"they sum to {total!r}"
                )
        if problems:
            raise ModelDefinitionError(
                f"model {self.name!r} is inconsistent:\n" + "\n".join(f"  - {p}" for p in problems)
            )
        return self
