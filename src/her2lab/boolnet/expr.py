"""Logical and rate expressions: parser, printer, evaluator.

One grammar serves the Boolean rules of bnet and MaBoSS files and MaBoSS rate expressions::

    expr    := or ( '?' expr ':' expr )?           ternary, lowest precedence
    or      := xor ( ('|' | '||' | 'OR') xor )*
    xor     := and ( '^' and )*
    and     := cmp ( ('&' | '&&' | 'AND') cmp )*
    cmp     := sum ( ('==' | '!=' | '<' | '<=' | '>' | '>=') sum )?
    sum     := prod ( ('+' | '-') prod )*
    prod    := unary ( ('*' | '/') unary )*
    unary   := ('!' | 'NOT' | '-' | '+') unary | atom
    atom    := NAME | NUMBER | '$'NAME | '@logic' | 'TRUE' | 'FALSE' | '(' expr ')'

A *logic* expression (``boolean=True``) may use only names, ``0``/``1``/``TRUE``/``FALSE``,
negation, ``&``, ``|``, ``^`` and parentheses; a *rate* expression may use everything. Node
values are 0 or 1 inside arithmetic, so every expression is a function of the Boolean state;
the compiler relies on this to tabulate rates.

Every syntax error is a :class:`~her2lab.errors.ModelSyntaxError` carrying the source name, the
line and the column of the offending token.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from her2lab.errors import ModelSyntaxError

__all__ = [
    "And",
    "BinOp",
    "Cond",
    "Const",
    "Expr",
    "Logic",
    "Neg",
    "Not",
    "Or",
    "Param",
    "Var",
    "Xor",
    "evaluate",
    "parse_expr",
    "to_bnet",
    "to_maboss",
]


# ----------------------------------------------------------------------------------- the AST


#: Deepest nesting of parentheses, '!', signs and '?' a rule may use: far beyond any real
#: model, and far below Python's recursion limit for the recursive-descent parser.
MAX_NESTING = 60
#: Deepest expression tree a rule may parse into (chains of '^' and arithmetic nest too).
MAX_DEPTH = 120


class Expr:
    """Base class of expression nodes (immutable, hashable, compared by value)."""

    __slots__ = ()

    def variables(self) -> set[str]:
        """Names of the nodes this expression reads."""
        out: set[str] = set()
        _walk(self, lambda e: out.add(e.name) if isinstance(e, Var) else None)
        return out

    def parameters(self) -> set[str]:
        """Names of the ``$parameters`` this expression reads."""
        out: set[str] = set()
        _walk(self, lambda e: out.add(e.name) if isinstance(e, Param) else None)
        return out

    def uses_logic(self) -> bool:
        """Whether ``@logic`` occurs in the expression."""
        found: list[bool] = []
        _walk(self, lambda e: found.append(True) if isinstance(e, Logic) else None)
        return bool(found)

    def is_boolean(self) -> bool:
        """Whether the expression is a pure logic expression (no arithmetic, parameters)."""
        ok = [True]

        def visit(e: Expr) -> None:
            if isinstance(e, BinOp | Neg | Cond | Param | Logic) or (
                isinstance(e, Const) and e.value not in (0.0, 1.0)
            ):
                ok[0] = False

        _walk(self, visit)
        return ok[0]

    def __str__(self) -> str:
        return to_maboss(self)


@dataclass(frozen=True, slots=True)
class Const(Expr):
    value: float


@dataclass(frozen=True, slots=True)
class Var(Expr):
    name: str


@dataclass(frozen=True, slots=True)
class Param(Expr):
    name: str


@dataclass(frozen=True, slots=True)
class Logic(Expr):
    """``@logic`` inside a MaBoSS rate: the value of the node's own logic rule."""


@dataclass(frozen=True, slots=True)
class Not(Expr):
    arg: Expr


@dataclass(frozen=True, slots=True)
class And(Expr):
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or(Expr):
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Xor(Expr):
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Neg(Expr):
    arg: Expr


@dataclass(frozen=True, slots=True)
class BinOp(Expr):
    """Arithmetic (``+ - * /``) or comparison (``== != < <= > >=``)."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Cond(Expr):
    cond: Expr
    then: Expr
    other: Expr


def _children(e: Expr) -> tuple[Expr, ...]:
    if isinstance(e, Not | Neg):
        return (e.arg,)
    if isinstance(e, And | Or):
        return e.args
    if isinstance(e, Xor | BinOp):
        return (e.left, e.right)
    if isinstance(e, Cond):
        return (e.cond, e.then, e.other)
    return ()


def _depth(e: Expr) -> int:
    """Depth of the expression tree (iterative: no recursion limit)."""
    deepest, stack = 0, [(e, 1)]
    while stack:
        cur, d = stack.pop()
        deepest = max(deepest, d)
        stack.extend((c, d + 1) for c in _children(cur))
    return deepest


def _walk(e: Expr, fn: Callable[[Expr], Any]) -> None:
    stack = [e]
    while stack:
        cur = stack.pop()
        fn(cur)
        stack.extend(_children(cur))


def substitute(e: Expr, mapping: Callable[[Expr], Expr | None]) -> Expr:
    """Rebuild ``e`` bottom-up, replacing any node for which ``mapping`` returns an Expr."""
    rep = mapping(e)
    if rep is not None:
        return rep
    if isinstance(e, Not):
        return Not(substitute(e.arg, mapping))
    if isinstance(e, Neg):
        return Neg(substitute(e.arg, mapping))
    if isinstance(e, And):
        return And(tuple(substitute(a, mapping) for a in e.args))
    if isinstance(e, Or):
        return Or(tuple(substitute(a, mapping) for a in e.args))
    if isinstance(e, Xor):
        return Xor(substitute(e.left, mapping), substitute(e.right, mapping))
    if isinstance(e, BinOp):
        return BinOp(e.op, substitute(e.left, mapping), substitute(e.right, mapping))
    if isinstance(e, Cond):
        return Cond(
            substitute(e.cond, mapping), substitute(e.then, mapping), substitute(e.other, mapping)
        )
    return e


def rename(e: Expr, names: Mapping[str, str]) -> Expr:
    """Return ``e`` with node names replaced according to ``names``."""
    return substitute(e, lambda x: Var(names[x.name]) if isinstance(x, Var) and x.name in names
                      else None)


# ------------------------------------------------------------------------------ tokenizer

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>[ \t\r\n]+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<param>\$[A-Za-z_][A-Za-z0-9_]*)
  | (?P<logic>@logic\b)
  | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<op>&&|\|\||==|!=|<=|>=|[!&|^()?:<>+\-*/])
    """,
    re.VERBOSE,
)

_WORD_OPS = {"AND": "&", "OR": "|", "NOT": "!", "and": "&", "or": "|", "not": "!"}
_WORD_CONSTS = {"TRUE": 1.0, "FALSE": 0.0, "true": 1.0, "false": 0.0, "True": 1.0, "False": 0.0}


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # number, param, logic, name, op, end
    text: str
    pos: int


class _Parser:
    def __init__(
        self, text: str, *, source: str | None, line: int, column: int, boolean: bool,
        source_lines: list[str] | None = None,
    ) -> None:
        self.text = text
        self.source_lines = source_lines
        self.source = source
        self.line0 = line
        self.col0 = column
        self.boolean = boolean
        self.toks = list(self._tokenize())
        self.i = 0
        self.depth = 0

    # positions -----------------------------------------------------------------------
    def _where(self, pos: int) -> tuple[int, int, str]:
        before = self.text[:pos]
        nl = before.count("\n")
        line = self.line0 + nl
        col = pos - before.rfind("\n") if nl else self.col0 + pos
        if self.source_lines is not None and 0 < line <= len(self.source_lines):
            return line, col, self.source_lines[line - 1]
        lines = self.text.split("\n")
        shown = lines[nl]
        if nl == 0 and self.col0 > 1:
            shown = " " * (self.col0 - 1) + shown
        return line, col, shown

    def error(self, message: str, pos: int) -> ModelSyntaxError:
        line, col, shown = self._where(pos)
        return ModelSyntaxError(message, source=self.source, line=line, column=col, text=shown)

    def _tokenize(self) -> Iterator[_Tok]:
        pos = 0
        n = len(self.text)
        while pos < n:
            m = _TOKEN_RE.match(self.text, pos)
            if m is None:
                raise self.error(f"unexpected character {self.text[pos]!r}", pos)
            kind = m.lastgroup or ""
            tok = m.group()
            if kind == "name" and tok in _WORD_OPS:
                yield _Tok("op", _WORD_OPS[tok], pos)
            elif kind == "name" and tok in _WORD_CONSTS:
                yield _Tok("number", str(int(_WORD_CONSTS[tok])), pos)
            elif kind != "ws":
                if kind == "name" and tok.endswith("."):
                    raise self.error(f"a name cannot end with '.': {tok!r}", pos)
                yield _Tok(kind, tok, pos)
            pos = m.end()
        yield _Tok("end", "", n)

    # helpers -------------------------------------------------------------------------
    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def at_op(self, *ops: str) -> bool:
        tok = self.peek()
        return tok.kind == "op" and tok.text in ops

    def expect(self, op: str) -> None:
        tok = self.peek()
        if not (tok.kind == "op" and tok.text == op):
            raise self.error(f"expected {op!r}, found {_describe(tok)}", tok.pos)
        self.i += 1

    def not_in_logic(self, tok: _Tok, what: str) -> None:
        if self.boolean:
            raise self.error(
                f"{what} is not allowed in a logic rule (only node names, 0, 1, !, &, |, ^ and "
                "parentheses)",
                tok.pos,
            )

    def nest(self, tok: _Tok, delta: int) -> None:
        """Track nesting (parentheses, '!', signs, '?'): deeper than :data:`MAX_NESTING` is
        an error here, rather than Python's recursion limit later."""
        self.depth += delta
        if self.depth > MAX_NESTING:
            raise self.error(f"the rule nests deeper than {MAX_NESTING} levels (parentheses, "
                             "'!' or signs); simplify it", tok.pos)

    # grammar -------------------------------------------------------------------------
    def parse(self) -> Expr:
        if self.peek().kind == "end":
            raise self.error("empty expression", self.peek().pos)
        e = self.expr()
        tok = self.peek()
        if tok.kind != "end":
            raise self.error(f"unexpected {_describe(tok)} after a complete expression", tok.pos)
        if _depth(e) > MAX_DEPTH:
            raise self.error(f"the rule is deeper than {MAX_DEPTH} operators once parsed (a "
                             "long chain of '^' or arithmetic); simplify it", 0)
        return e

    def expr(self) -> Expr:
        cond = self.or_()
        if self.at_op("?"):
            tok = self.peek()
            self.not_in_logic(tok, "the conditional operator '?'")
            self.take()
            self.nest(tok, 1)
            then = self.expr()
            self.expect(":")
            other = self.expr()
            self.nest(tok, -1)
            return Cond(cond, then, other)
        return cond

    def or_(self) -> Expr:
        args = [self.xor()]
        while self.at_op("|", "||"):
            self.take()
            args.append(self.xor())
        return args[0] if len(args) == 1 else Or(tuple(args))

    def xor(self) -> Expr:
        left = self.and_()
        while self.at_op("^"):
            self.take()
            left = Xor(left, self.and_())
        return left

    def and_(self) -> Expr:
        args = [self.cmp()]
        while self.at_op("&", "&&"):
            self.take()
            args.append(self.cmp())
        return args[0] if len(args) == 1 else And(tuple(args))

    def cmp(self) -> Expr:
        left = self.sum()
        if self.at_op("==", "!=", "<", "<=", ">", ">="):
            tok = self.take()
            self.not_in_logic(tok, f"the comparison {tok.text!r}")
            left = BinOp(tok.text, left, self.sum())
        return left

    def sum(self) -> Expr:
        left = self.prod()
        while self.at_op("+", "-"):
            tok = self.take()
            self.not_in_logic(tok, f"the arithmetic operator {tok.text!r}")
            left = BinOp(tok.text, left, self.prod())
        return left

    def prod(self) -> Expr:
        left = self.unary()
        while self.at_op("*", "/"):
            tok = self.take()
            self.not_in_logic(tok, f"the arithmetic operator {tok.text!r}")
            left = BinOp(tok.text, left, self.unary())
        return left

    def unary(self) -> Expr:
        tok = self.peek()
        if self.at_op("!"):
            self.take()
            self.nest(tok, 1)
            arg = self.unary()
            self.nest(tok, -1)
            return Not(arg)
        if self.at_op("-", "+"):
            self.not_in_logic(tok, f"the sign {tok.text!r}")
            self.take()
            self.nest(tok, 1)
            arg = self.unary()
            self.nest(tok, -1)
            return Neg(arg) if tok.text == "-" else arg
        return self.atom()

    def atom(self) -> Expr:
        tok = self.take()
        if tok.kind == "name":
            return Var(tok.text)
        if tok.kind == "number":
            value = float(tok.text)
            if self.boolean and value not in (0.0, 1.0):
                raise self.error(
                    f"the constant {tok.text!r} is not allowed in a logic rule (only 0 or 1)",
                    tok.pos,
                )
            return Const(value)
        if tok.kind == "param":
            self.not_in_logic(tok, f"the parameter {tok.text!r}")
            return Param(tok.text[1:])
        if tok.kind == "logic":
            self.not_in_logic(tok, "'@logic'")
            return Logic()
        if tok.kind == "op" and tok.text == "(":
            self.nest(tok, 1)
            inner = self.expr()
            self.expect(")")
            self.nest(tok, -1)
            return inner
        if tok.kind == "end":
            raise self.error("unexpected end of expression", tok.pos)
        raise self.error(f"unexpected {_describe(tok)}", tok.pos)


def _describe(tok: _Tok) -> str:
    if tok.kind == "end":
        return "end of expression"
    return f"{tok.text!r}"


def parse_expr(
    text: str,
    *,
    boolean: bool = True,
    source: str | None = None,
    line: int = 1,
    column: int = 1,
    source_lines: list[str] | None = None,
) -> Expr:
    """Parse a logic rule or a MaBoSS rate expression into an :class:`Expr`.

    Parameters
    ----------
    text : str
        The expression (``"A & !B"``, ``"@logic ? $k : 0"``).
    boolean : bool, optional
        True (default) accepts a logic rule only; False accepts a MaBoSS rate expression
        (arithmetic, comparisons, ``$parameters``, ``@logic``).
    source : str, optional
        Name of the file ``text`` comes from, for error messages.
    line, column : int, optional
        Where ``text`` starts in that file (1-based, default 1), so that a syntax error points at
        the right spot of the file rather than of the snippet.
    source_lines : list of str, optional
        The file's lines, so that the error can quote the whole line.

    Returns
    -------
    Expr
        The parsed expression.

    Raises
    ------
    ModelSyntaxError
        If ``text`` does not parse, naming the source, line and column.
    """
    return _Parser(text, source=source, line=line, column=column, boolean=boolean,
                   source_lines=source_lines).parse()


# ---------------------------------------------------------------------------------- printing

# precedence levels, higher binds tighter
_P_COND, _P_OR, _P_XOR, _P_AND, _P_CMP, _P_SUM, _P_PROD, _P_UNARY, _P_ATOM = range(9)
_CMP_OPS = {"==", "!=", "<", "<=", ">", ">="}


def _prec(e: Expr) -> int:
    if isinstance(e, Cond):
        return _P_COND
    if isinstance(e, Or):
        return _P_OR
    if isinstance(e, Xor):
        return _P_XOR
    if isinstance(e, And):
        return _P_AND
    if isinstance(e, BinOp):
        if e.op in _CMP_OPS:
            return _P_CMP
        return _P_SUM if e.op in "+-" else _P_PROD
    if isinstance(e, Not | Neg):
        return _P_UNARY
    return _P_ATOM


def _fmt_number(v: float) -> str:
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def _print(e: Expr, style: str) -> str:
    def sub(child: Expr, min_prec: int) -> str:
        s = _print(child, style)
        return f"({s})" if _prec(child) < min_prec else s

    if isinstance(e, Const):
        return _fmt_number(e.value)
    if isinstance(e, Var):
        return e.name
    if isinstance(e, Param):
        return f"${e.name}"
    if isinstance(e, Logic):
        return "@logic"
    if isinstance(e, Not):
        return "!" + sub(e.arg, _P_UNARY)
    if isinstance(e, Neg):
        return "-" + sub(e.arg, _P_UNARY)
    if isinstance(e, And):
        return " & ".join(sub(a, _P_AND + 1) for a in e.args)
    if isinstance(e, Or):
        return " | ".join(sub(a, _P_OR + 1) for a in e.args)
    if isinstance(e, Xor):
        return f"{sub(e.left, _P_XOR)} ^ {sub(e.right, _P_XOR + 1)}"
    if isinstance(e, BinOp):
        p = _prec(e)
        return f"{sub(e.left, p)} {e.op} {sub(e.right, p + 1)}"
    if isinstance(e, Cond):
        return f"{sub(e.cond, _P_OR)} ? {sub(e.then, _P_COND)} : {sub(e.other, _P_COND)}"
    raise TypeError(f"not an expression: {e!r}")


def to_maboss(e: Expr) -> str:
    """Print ``e`` in MaBoSS syntax (``!``, ``&``, ``|``, ``^``, ``? :``, ``$param``)."""
    return _print(e, "maboss")


def to_bnet(e: Expr) -> str:
    """Print a logic expression in bnet syntax; XOR is expanded, since bnet has no ``^``."""
    if not e.is_boolean():
        raise ValueError(f"only a logic expression can be written as bnet; got {to_maboss(e)!r}")

    def expand(x: Expr) -> Expr | None:
        if isinstance(x, Xor):
            a = substitute(x.left, expand)
            b = substitute(x.right, expand)
            return Or((And((a, Not(b))), And((Not(a), b))))
        return None

    return _print(substitute(e, expand), "bnet")


# -------------------------------------------------------------------------------- evaluation


def evaluate(
    e: Expr,
    values: Mapping[str, Any],
    *,
    parameters: Mapping[str, float] | None = None,
    logic: Any = None,
) -> Any:
    """Evaluate ``e`` with node values from ``values`` (scalars or NumPy arrays of 0/1).

    Boolean results come back as 0.0/1.0 floats (or float arrays), so the same evaluator serves
    logic rules and rates. ``logic`` is the value of ``@logic``; ``parameters`` resolve
    ``$names``.
    """
    params = parameters or {}

    def ev(x: Expr) -> Any:
        if isinstance(x, Const):
            return x.value
        if isinstance(x, Var):
            return values[x.name]
        if isinstance(x, Param):
            return params[x.name]
        if isinstance(x, Logic):
            if logic is None:
                raise ValueError("@logic used outside a rate expression")
            return logic
        if isinstance(x, Not):
            return 1.0 - _truth(ev(x.arg))
        if isinstance(x, Neg):
            return -ev(x.arg)
        if isinstance(x, And):
            out = 1.0
            for a in x.args:
                out = out * _truth(ev(a))
            return out
        if isinstance(x, Or):
            out = 0.0
            for a in x.args:
                out = np.maximum(out, _truth(ev(a)))
            return out
        if isinstance(x, Xor):
            return np.abs(_truth(ev(x.left)) - _truth(ev(x.right)))
        if isinstance(x, BinOp):
            a, b = ev(x.left), ev(x.right)
            return _binop(x.op, a, b)
        if isinstance(x, Cond):
            return np.where(_truth(ev(x.cond)) > 0, ev(x.then), ev(x.other)) * 1.0
        raise TypeError(f"not an expression: {x!r}")

    out = ev(e)
    if isinstance(out, np.ndarray):
        return out.astype(float)
    return float(out)


def _truth(v: Any) -> Any:
    return (np.asarray(v) != 0) * 1.0 if isinstance(v, np.ndarray) else float(v != 0)


def _binop(op: str, a: Any, b: Any) -> Any:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.divide(a, b) if isinstance(a, np.ndarray) or isinstance(b, np.ndarray) \
                else (a / b if b != 0 else float("inf") if a > 0 else float("nan"))
    cmp = {
        "==": np.equal,
        "!=": np.not_equal,
        "<": np.less,
        "<=": np.less_equal,
        ">": np.greater,
        ">=": np.greater_equal,
    }[op]
    res = cmp(a, b)
    return res * 1.0 if isinstance(res, np.ndarray) else float(res)
