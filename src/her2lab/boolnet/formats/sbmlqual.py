"""SBML Level 3 with the Qualitative Models package (SBML-qual), through python-libsbml.

Read: every qualitative species is a node (``maxLevel`` must be 1: Boolean models only); a
transition's function terms give its rule (terms of level 1 OR-ed together, the default term
otherwise); a species without a transition, or with a transition without function terms, is an
input (its rule keeps its value). ``initialLevel`` 0/1 gives the initial state; a species
without it starts at random (0.5), as in MaBoSS.

Write: one species and one transition per node (none for inputs); the rule goes into a
function term of level 1 (default term 0). SBML-qual has no rates: rates, fractional initial
probabilities and perturbations are not written (use MaBoSS files for those).
"""

from __future__ import annotations

from pathlib import Path

import libsbml

from her2lab.boolnet.expr import And, Const, Expr, Not, Or, Var, Xor
from her2lab.boolnet.model import Model, Node
from her2lab.errors import ModelDefinitionError, ModelSyntaxError
from her2lab.textfile import read_text

__all__ = ["format_sbmlqual", "parse_sbmlqual", "read_sbmlqual", "write_sbmlqual"]

_QUAL_NS = "http://www.sbml.org/sbml/level3/version1/qual/version1"


def _check_document(doc: libsbml.SBMLDocument, source: str) -> None:
    """Raise on XML errors (the file does not parse). Schema-level omissions that tools in the
    field commonly make (a species without a compartment) are tolerated."""
    for k in range(doc.getNumErrors()):
        err = doc.getError(k)
        if err.getSeverity() == libsbml.LIBSBML_SEV_FATAL or (
            err.getSeverity() >= libsbml.LIBSBML_SEV_ERROR
            and err.getCategory() == libsbml.LIBSBML_CAT_XML
        ):
            raise ModelSyntaxError(
                err.getMessage().strip(), source=source, line=err.getLine() or None,
                column=err.getColumn() or None,
            )


def _compare(species: str, op: str, value: float) -> Expr:
    ops = {
        "eq": lambda v: v == value, "neq": lambda v: v != value, "lt": lambda v: v < value,
        "leq": lambda v: v <= value, "gt": lambda v: v > value, "geq": lambda v: v >= value,
    }
    holds = [v for v in (0, 1) if ops[op](v)]
    if holds == [0, 1]:
        return Const(1.0)
    if holds == [1]:
        return Var(species)
    if holds == [0]:
        return Not(Var(species))
    return Const(0.0)


_FLIP = {"lt": "gt", "gt": "lt", "leq": "geq", "geq": "leq", "eq": "eq", "neq": "neq"}
_REL = {
    libsbml.AST_RELATIONAL_EQ: "eq", libsbml.AST_RELATIONAL_NEQ: "neq",
    libsbml.AST_RELATIONAL_LT: "lt", libsbml.AST_RELATIONAL_LEQ: "leq",
    libsbml.AST_RELATIONAL_GT: "gt", libsbml.AST_RELATIONAL_GEQ: "geq",
}


def _from_ast(ast: libsbml.ASTNode, where: str) -> Expr:
    t = ast.getType()
    kids = [ast.getChild(i) for i in range(ast.getNumChildren())]
    if t == libsbml.AST_LOGICAL_AND:
        return And(tuple(_from_ast(k, where) for k in kids))
    if t == libsbml.AST_LOGICAL_OR:
        return Or(tuple(_from_ast(k, where) for k in kids))
    if t == libsbml.AST_LOGICAL_NOT:
        return Not(_from_ast(kids[0], where))
    if t == libsbml.AST_LOGICAL_XOR:
        out = _from_ast(kids[0], where)
        for k in kids[1:]:
            out = Xor(out, _from_ast(k, where))
        return out
    if t == libsbml.AST_CONSTANT_TRUE:
        return Const(1.0)
    if t == libsbml.AST_CONSTANT_FALSE:
        return Const(0.0)
    if t == libsbml.AST_NAME:
        return Var(ast.getName())
    if t in _REL and len(kids) == 2:
        a, b = kids
        if a.getType() == libsbml.AST_NAME and b.isNumber():
            return _compare(a.getName(), _REL[t], b.getValue())
        if b.getType() == libsbml.AST_NAME and a.isNumber():
            return _compare(b.getName(), _FLIP[_REL[t]], a.getValue())
    raise ModelDefinitionError(
        f"{where}: unsupported MathML in a function term: {libsbml.formulaToL3String(ast)!r} "
        "(expected and/or/not/xor of comparisons of a species with 0 or 1)"
    )


def parse_sbmlqual(text: str, *, source: str = "<sbml>", name: str | None = None) -> Model:
    """Parse SBML-qual text into a :class:`Model`.

    Parameters
    ----------
    text : str
        The SBML document (Level 3 with the ``qual`` package).
    source : str, optional
        Name of its file, for error messages (default ``"<sbml>"``).
    name : str, optional
        The model's name (default: the SBML model's id, or ``"model"``).

    Returns
    -------
    Model
        The model: one node per qualitative species, its rule from the transitions' function
        terms.

    Raises
    ------
    ModelSyntaxError
        If the text is not a readable SBML document.
    ModelDefinitionError
        If the document has no model, does not use the qual package, or defines an invalid
        network (two transitions for one species, undefined inputs, ...).
    """
    doc = libsbml.readSBMLFromString(text)
    _check_document(doc, source)
    sbml_model = doc.getModel()
    if sbml_model is None:
        raise ModelDefinitionError(f"{source}: the document has no <model>")
    qual = sbml_model.getPlugin("qual")
    if qual is None:
        raise ModelDefinitionError(f"{source}: the model does not use the SBML qual package")
    species = {}
    for sp in qual.getListOfQualitativeSpecies():
        sid = sp.getId()
        if sp.isSetMaxLevel() and sp.getMaxLevel() > 1:
            raise ModelDefinitionError(
                f"{source}: species {sid!r} has maxLevel {sp.getMaxLevel()}; only Boolean "
                "models (maxLevel 1) are supported"
            )
        initial = float(sp.getInitialLevel()) if sp.isSetInitialLevel() else 0.5
        species[sid] = (sp.getName() or "", initial)
    rules: dict[str, Expr] = {}
    for tr in qual.getListOfTransitions():
        outs = [o.getQualitativeSpecies() for o in tr.getListOfOutputs()]
        where = f"{source}: transition {tr.getId()!r}"
        if len(outs) != 1:
            raise ModelDefinitionError(f"{where} must have exactly one output; has {len(outs)}")
        target = outs[0]
        if target in rules:
            raise ModelDefinitionError(f"{where}: species {target!r} has two transitions")
        terms = tr.getListOfFunctionTerms()
        default = terms.getDefaultTerm() if terms is not None else None
        if default is None and (terms is None or terms.size() == 0):
            continue  # no function: an input
        default_level = default.getResultLevel() if default is not None else 0
        on: list[Expr] = []
        off: list[Expr] = []
        for k in range(terms.size()):
            term = terms.get(k)
            math = term.getMath()
            if math is None:
                raise ModelDefinitionError(f"{where}: a function term has no math")
            (on if term.getResultLevel() >= 1 else off).append(_from_ast(math, where))

        def disj(xs: list[Expr]) -> Expr:
            return xs[0] if len(xs) == 1 else Or(tuple(xs))

        if default_level >= 1:
            rule: Expr = Not(disj(off)) if off else Const(1.0)
            if on and off:
                rule = Or((disj(on), rule))
        else:
            rule = disj(on) if on else Const(0.0)
        rules[target] = rule
    unknown = sorted({v for r in rules.values() for v in r.variables()} - species.keys())
    if unknown:
        raise ModelDefinitionError(f"{source}: function terms read undefined species {unknown}")
    nodes = [
        Node(sid, rules.get(sid, Var(sid)), initial=initial,
             description=label if label != sid else "")
        for sid, (label, initial) in species.items()
    ]
    if not nodes:
        raise ModelDefinitionError(f"{source}: no qualitative species is defined")
    model_name = name or sbml_model.getId() or "model"
    return Model(nodes, name=model_name).validate()


def read_sbmlqual(path: str | Path) -> Model:
    """Read an SBML-qual file (``.sbml`` or ``.xml``).

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    Model
        The model read (see :func:`parse_sbmlqual`).

    Raises
    ------
    ModelSyntaxError
        If the file cannot be read or does not parse.
    ModelDefinitionError
        If the model it defines is invalid.
    """
    path = Path(path)
    text = read_text(path, what="SBML-qual model", error=ModelSyntaxError)
    return parse_sbmlqual(text, source=str(path), name=path.stem)


def _formula(e: Expr) -> str:
    if isinstance(e, Var):
        return f"({e.name} == 1)"
    if isinstance(e, Const):
        return "true" if e.value else "false"
    if isinstance(e, Not):
        return f"!{_formula(e.arg)}"
    if isinstance(e, And):
        return "(" + " && ".join(_formula(a) for a in e.args) + ")"
    if isinstance(e, Or):
        return "(" + " || ".join(_formula(a) for a in e.args) + ")"
    if isinstance(e, Xor):
        return f"xor({_formula(e.left)}, {_formula(e.right)})"
    raise ModelDefinitionError(f"cannot write {e!r} to SBML-qual: not a logic expression")


def _ok(code: int, what: str) -> None:
    if code != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise ModelDefinitionError(f"libsbml failed to {what}: "
                                   f"{libsbml.OperationReturnValue_toString(code)}")


def format_sbmlqual(model: Model) -> str:
    """The SBML-qual text of a model (logic and 0/1 initial states).

    Parameters
    ----------
    model : Model
        The model; only logic rules are representable (not rates).

    Returns
    -------
    str
        The SBML Level 3 document.

    Raises
    ------
    ModelDefinitionError
        If a rule is not a logic expression SBML-qual can express, or libsbml fails.
    """
    ns = libsbml.SBMLNamespaces(3, 1, "qual", 1)
    doc = libsbml.SBMLDocument(ns)
    _ok(doc.setPackageRequired("qual", True), "mark qual as required")
    m = doc.createModel()
    _ok(m.setId(model.name if libsbml.SyntaxChecker.isValidSBMLSId(model.name) else "model"),
        "set the model id")
    comp = m.createCompartment()
    _ok(comp.setId("default"), "set the compartment id")
    _ok(comp.setConstant(True), "set the compartment constant")
    qual = m.getPlugin("qual")
    for node in model:
        sp = qual.createQualitativeSpecies()
        _ok(sp.setId(node.name), f"set species id {node.name!r}")
        _ok(sp.setCompartment("default"), "set the species compartment")
        _ok(sp.setConstant(False), "set the species constant")
        _ok(sp.setMaxLevel(1), "set maxLevel")
        if node.description:
            sp.setName(node.description)
        if node.initial in (0.0, 1.0):
            _ok(sp.setInitialLevel(int(node.initial)), "set initialLevel")
    for node in model:
        if node.is_input:
            continue
        tr = qual.createTransition()
        _ok(tr.setId(f"tr_{node.name}"), "set the transition id")
        for k, v in enumerate(sorted(node.logic.variables(), key=model.node_names.index)):
            inp = tr.createInput()
            _ok(inp.setId(f"tr_{node.name}_in_{k}"), "set an input id")
            _ok(inp.setQualitativeSpecies(v), "set an input species")
            _ok(inp.setTransitionEffect(libsbml.INPUT_TRANSITION_EFFECT_NONE), "set an effect")
        out = tr.createOutput()
        _ok(out.setQualitativeSpecies(node.name), "set the output species")
        _ok(out.setTransitionEffect(libsbml.OUTPUT_TRANSITION_EFFECT_ASSIGNMENT_LEVEL),
            "set the output effect")
        default = tr.createDefaultTerm()
        _ok(default.setResultLevel(0), "set the default level")
        term = tr.createFunctionTerm()
        _ok(term.setResultLevel(1), "set the term level")
        ast = libsbml.parseL3Formula(_formula(node.logic))
        if ast is None:
            raise ModelDefinitionError(
                f"libsbml could not parse the rule of {node.name!r}: "
                f"{libsbml.getLastParseL3Error()}"
            )
        _ok(term.setMath(ast), f"set the math of {node.name!r}")
    return libsbml.writeSBMLToString(doc)


def write_sbmlqual(model: Model, path: str | Path) -> None:
    """Write a model as an SBML-qual file, atomically.

    Parameters
    ----------
    model : Model
        The model to write (see :func:`format_sbmlqual`).
    path : str or Path
        The file to write.

    Raises
    ------
    ModelDefinitionError
        If the model cannot be expressed in SBML-qual.
    OutputError
        If the file cannot be written.
    """
    from her2lab.atomic import atomic_write_text

    atomic_write_text(path, format_sbmlqual(model))
