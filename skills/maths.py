"""Arithmetic and unit conversion.

Owns ``calculate`` and ``convert_units``, the expression evaluator, and the spoken-maths front
end of the fast path ("15 percent of 80", "what's 20% off 45", "square root of 144", "add 2
and 3"). Expressions are parsed with Python's ``ast`` and evaluated node by node over
numbers, + - * / ^ % (modulo), parentheses, percentages and roots only: never ``eval``. The
work is bounded before and while it is done (length, nesting, node count, the size of every
intermediate result), so "9^9^9" or a thousand brackets is refused at once.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable
from typing import Any

from assistant.skills import Pattern, skill
from skills.spoken import capital

MAX_LENGTH = 200
"""Characters of an expression; a spoken sum is far shorter."""
MAX_DEPTH = 10
"""Nested brackets."""
MAX_NODES = 100
"""Numbers, operators and calls in one expression."""
MAX_DIGITS = 10_000
"""Digits of any intermediate result: (10^999)^999 is refused before it is computed."""

_OPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.Pow: operator.pow, ast.Mod: operator.mod,
    ast.FloorDiv: operator.floordiv}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {ast.USub: operator.neg,
                                                         ast.UAdd: operator.pos}
_NUM = r"\d+(?:\.\d+)?"

Number = int | float


class DivideByZero(ValueError):
    """The expression divides by zero: an answer to give, not a failure."""


def _root(n: Number, x: Number) -> Number:
    """The real n-th root of x, exact for perfect powers (cube root of 27 is 3, not
    3.0000000000000004)."""
    if n != int(n) or not 2 <= n <= 100:
        raise ValueError("a root must be a whole number between 2 and 100")
    n = int(n)
    if x < 0:
        if n % 2 == 0:
            raise ValueError("a negative number has no real square root" if n == 2 else
                             f"a negative number has no real root of order {n}")
        return -_root(n, -x)
    approx = float(x) ** (1 / n)
    near = round(approx)
    for candidate in (near - 1, near, near + 1):
        if candidate >= 0 and candidate ** n == x:
            return candidate
    return approx


_FUNCTIONS: dict[str, tuple[int, Callable[..., Number]]] = {
    "sqrt": (1, lambda x: _root(2, x)),
    "cbrt": (1, lambda x: _root(3, x)),
    "root": (2, _root),
    "percent": (1, lambda a: a / 100),
    "percent_of": (2, lambda a, b: a * b / 100),
    "percent_off": (2, lambda a, b: b - a * b / 100),
}


def _prepare(expression: str) -> str:
    """Written forms → Python syntax: '^' is a power, '15% of 80' and '20% off 45' are
    calls, '80 + 15%' adds 15 percent of 80; '%' between two numbers stays modulo."""
    t = expression.replace("^", "**").replace("×", "*").replace("÷", "/")
    t = re.sub(r"(?<=\d)\s*(?:percent|per cent)\b", "%", t)
    t = re.sub(rf"({_NUM})\s*%\s*of\s*({_NUM})", r"percent_of(\1, \2)", t)
    t = re.sub(rf"({_NUM})\s*%\s*off\s*({_NUM})", r"percent_off(\1, \2)", t)
    t = re.sub(rf"^\s*({_NUM})\s*([+-])\s*({_NUM})\s*%\s*$", r"\1 \2 percent_of(\3, \1)", t)
    return re.sub(rf"({_NUM})\s*%(?!\s*[\d(])", r"percent(\1)", t)


def parse(expression: str) -> ast.expr:
    """The expression's syntax tree, within the bounds; ValueError otherwise."""
    if len(expression) > MAX_LENGTH:
        raise ValueError("that expression is too long for me")
    text = _prepare(expression)
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth > MAX_DEPTH:
            raise ValueError("that expression is nested too deeply for me")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ValueError(f"'{expression}' is not an arithmetic expression") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ValueError("that expression is too long for me")
    return tree.body


def _checked(value: Any) -> Number:
    if isinstance(value, complex):
        raise ValueError("that has no real answer")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("that number is too large")
    if isinstance(value, int) and value.bit_length() > MAX_DIGITS * 3.33:
        raise ValueError("that number is too large")
    return value


def _digits(value: Number) -> float:
    """Decimal digits before the point (log10 works on integers of any size)."""
    return math.log10(abs(value)) if abs(value) > 1 else 0.0


def _value(node: ast.AST) -> Number:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_value(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        left, right = _value(node.left), _value(node.right)
        # Bound the size of the result before computing it, not just the exponent:
        # (10^999)^999 would otherwise hold the interpreter for minutes.
        if isinstance(node.op, ast.Pow) and (abs(right) > 1000
                                             or abs(right) * _digits(left) > MAX_DIGITS):
            raise ValueError("that number is too large")
        if isinstance(node.op, ast.Mult) and _digits(left) + _digits(right) > MAX_DIGITS:
            raise ValueError("that number is too large")
        return _checked(_OPS[type(node.op)](left, right))
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in _FUNCTIONS and not node.keywords
            and len(node.args) == _FUNCTIONS[node.func.id][0]):
        return _checked(_FUNCTIONS[node.func.id][1](*(_value(a) for a in node.args)))
    raise ValueError("that contains something other than arithmetic")


def _compute(tree: ast.expr) -> Number:
    try:
        return _value(tree)
    except ZeroDivisionError:
        raise DivideByZero("you can't divide by zero") from None
    except OverflowError:
        raise ValueError("that number is too large") from None


def evaluate(expression: str) -> Number:
    """Value of an arithmetic expression ('17*23', '2^10', '(1+2)/3', '15% of 80',
    'sqrt(144)', 'root(3, 27)'); :class:`DivideByZero` or another ValueError otherwise."""
    return _compute(parse(expression))


def say_number(value: Number) -> str:
    if abs(value) >= 1e15:
        # Too long to say digit by digit; log10 also works past a float's range.
        exponent = math.floor(math.log10(abs(value)))
        mantissa = value / 10 ** exponent
        return f"about {mantissa:.3g} times 10 to the power of {exponent}"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}" if abs(value) >= 1e6 else str(int(value))
    return f"{value:.6g}" if abs(value) < 1e6 else f"{value:.4g}"


def _ordinal(n: Number) -> str:
    if n == 2:
        return "square"
    if n == 3:
        return "cube"
    n = int(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


_WORDS: dict[type[ast.operator], tuple[str, int]] = {
    ast.Add: ("plus", 1), ast.Sub: ("minus", 1), ast.Mult: ("times", 2),
    ast.Div: ("divided by", 2), ast.Mod: ("modulo", 2),
    ast.FloorDiv: ("divided, rounded down, by", 2),
    ast.Pow: ("to the power of", 4)}


def say_expression(node: ast.AST, outer: int = 0) -> str:
    """An expression in words, for the answer: '17 times 23', 'the square root of 144',
    '15 percent of 80'; brackets only where the order needs them."""
    if isinstance(node, ast.Constant):
        return say_number(node.value)
    if isinstance(node, ast.UnaryOp):
        inner = say_expression(node.operand, 3)
        return f"minus {inner}" if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp):
        word, rank = _WORDS[type(node.op)]
        # A power in words has no order of its own: bracket a power on either side of it.
        power = isinstance(node.op, ast.Pow)
        left = say_expression(node.left, rank + 1 if power else rank)
        if power and isinstance(node.right, ast.Constant) and node.right.value in (2, 3):
            text = f"{left} {'squared' if node.right.value == 2 else 'cubed'}"
        else:
            text = f"{left} {word} {say_expression(node.right, rank + 1)}"
        return f"({text})" if rank < outer else text
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        args = [say_expression(a, 5) for a in node.args]
        name = node.func.id
        if name in ("sqrt", "cbrt"):
            return f"the {'square' if name == 'sqrt' else 'cube'} root of {args[0]}"
        if name == "root":
            n = node.args[0]
            order = _ordinal(n.value) if isinstance(n, ast.Constant) else args[0]
            return f"the {order} root of {args[1]}"
        if name == "percent":
            return f"{args[0]} percent"
        return f"{args[0]} percent {'of' if name == 'percent_of' else 'off'} {args[1]}"
    return ast.unparse(node)


# Spoken forms → expressions, tried in order: verbs and roots first ("add 2 and 3", "the
# square root of 144"), then operator words.
_SPOKEN_FORMS = [
    (rf"\b(?:the )?square root of ({_NUM})", r"sqrt(\1)"),
    (rf"\b(?:the )?cube root of ({_NUM})", r"cbrt(\1)"),
    (rf"\b(?:the )?(\d+)(?:st|nd|rd|th) root of ({_NUM})", r"root(\1,\2)"),
    (r"(?<=\d) (?:dollars?|euros?|pounds?|pence|cents?|bucks)\b", ""),  # "$45" arrives so
    (rf"({_NUM}) ?(?:percent|per cent|%) (of|off) ({_NUM})", r"\1% \2 \3"),
    (rf"\badd ({_NUM}) (?:and|plus) ({_NUM})", r"\1 + \2"),
    (rf"\badd ({_NUM}) to ({_NUM})", r"\2 + \1"),
    (rf"\b(?:subtract|take away|take) ({_NUM}) from ({_NUM})", r"\2 - \1"),
    (rf"\bmultiply ({_NUM}) (?:by|and|with) ({_NUM})", r"\1 * \2"),
    (rf"\bdivide ({_NUM}) by ({_NUM})", r"\1 / \2"),
    (rf"\b(?:the )?sum of ({_NUM}) and ({_NUM})", r"\1 + \2"),
    (rf"\b(?:the )?product of ({_NUM}) and ({_NUM})", r"\1 * \2"),
    (rf"\b(?:the )?difference between ({_NUM}) and ({_NUM})", r"\1 - \2"),
    (r"\bto the (\d+)(?:st|nd|rd|th)(?: power)?\b", r"^\1"),
    (r"\bmultiplied by\b|\btimes\b|(?<=\d) ?x ?(?=\d)", "*"),
    (r"\bdivided by\b|\bover\b", "/"), (r"\bplus\b|\badded to\b", "+"),
    (r"\bminus\b|\btake away\b", "-"), (r"\bto the power of\b|\braised to\b", "^"),
    (r"\bsquared\b", "^2"), (r"\bcubed\b", "^3"), (r"\bmod(?:ulo)?\b", "%"),
]
# A lead-in, then at most two more words before the sum: a weak recogniser often garbles
# the lead-in ("What in 1 plus 2 plus 3", "was a hundred minus 37"), rarely the numbers.
_EXPR = re.compile(r"^(?:what(?:'s| is)?|how much is|calculate|compute|work out|solve|"
                   r"what do you get (?:for|if you do))?\s*(?:[a-z']+\s+){0,2}?"
                   r"(?P<expr>(?:[\d.\s()+\-*/^%,]|sqrt|cbrt|root|\bof\b|\boff\b)+?)\s*"
                   r"(?:equals?|is)?$", re.IGNORECASE)


def _calc_args(m: re.Match[str]) -> dict[str, Any] | None:
    text = m.string
    for rx, replacement in _SPOKEN_FORMS:
        text = re.sub(rx, f" {replacement} ", text, flags=re.IGNORECASE)
    em = _EXPR.match(" ".join(text.split()))
    if em is None or not re.search(r"\d\s*[-+*/^%]\s*[\d(]|\^\s*\d|%|sqrt|cbrt|root",
                                   em.group("expr")):
        return None
    expression = re.sub(r"\s+", "", em.group("expr"))
    if not re.match(r"-?[\d.(]|sqrt|cbrt|root", expression):
        return None  # the first number was lost ("what's due to the power of 10")
    return {"expression": re.sub(r"(?<=[\d%])(off?)(?=\d)", r" \1 ", expression)}


# Spoken operators, so that the tool gate offers calculate for "six multiplied by seven".
@skill(topic="maths",
       read_only=True,
       patterns=[Pattern(re.compile(r"\d", re.IGNORECASE), _calc_args)],
       examples=["what's fifteen percent of eighty",
                 "plus minus multiplied divided over squared cubed power modulo sum product "
                 "percent square cube root"])
def calculate(expression: str) -> str:
    """Work out arithmetic: + - * / ^, brackets, percentages and roots.

    Args:
        expression: e.g. "17*23", "(2.5+4)/3", "15% of 80", "20% off 45", "sqrt(144)",
            "root(3, 27)".
    """
    tree = parse(expression)
    try:
        value = _compute(tree)
    except DivideByZero:
        return "You can't divide by zero."
    return capital(f"{say_expression(tree)} is {say_number(value)}.")


# Each unit: (quantity, factor to the quantity's base unit, spoken aliases).
_UNITS: dict[str, tuple[str, float, tuple[str, ...]]] = {
    "m": ("length", 1.0, ("metres", "meters", "metre", "meter", "m")),
    "km": ("length", 1000.0, ("kilometres", "kilometers", "kilometre", "kilometer", "km")),
    "cm": ("length", 0.01, ("centimetres", "centimeters", "centimetre", "centimeter", "cm")),
    "mm": ("length", 0.001, ("millimetres", "millimeters", "millimetre", "millimeter", "mm")),
    "mi": ("length", 1609.344, ("miles", "mile", "mi")),
    "ft": ("length", 0.3048, ("feet", "foot", "ft")),
    "in": ("length", 0.0254, ("inches", "inch")),
    "yd": ("length", 0.9144, ("yards", "yard", "yd")),
    "kg": ("mass", 1.0, ("kilograms", "kilogram", "kilos", "kilo", "kg")),
    "g": ("mass", 0.001, ("grams", "gram", "g")),
    "mg": ("mass", 1e-6, ("milligrams", "milligram", "mg")),
    "lb": ("mass", 0.45359237, ("pounds", "pound", "lbs", "lb")),
    "oz": ("mass", 0.028349523125, ("ounces", "ounce", "oz")),
    "t": ("mass", 1000.0, ("tonnes", "tonne", "metric tons", "metric ton", "tons", "ton")),
    "l": ("volume", 1.0, ("litres", "liters", "litre", "liter", "l")),
    "ml": ("volume", 0.001, ("millilitres", "milliliters", "millilitre", "milliliter", "ml")),
    "gal": ("volume", 3.785411784, ("gallons", "gallon", "gal")),
    "cup": ("volume", 0.2365882365, ("cups", "cup")),
    "tbsp": ("volume", 0.01478676478125, ("tablespoons", "tablespoon", "tbsp")),
    "tsp": ("volume", 0.00492892159375, ("teaspoons", "teaspoon", "tsp")),
    "floz": ("volume", 0.0295735295625, ("fluid ounces", "fluid ounce", "fl oz")),
    "c": ("temperature", 1.0, ("degrees celsius", "degree celsius", "celsius", "centigrade",
                               "degrees centigrade", "c")),
    "f": ("temperature", 1.0, ("degrees fahrenheit", "degree fahrenheit", "fahrenheit", "f")),
    "k": ("temperature", 1.0, ("kelvin", "kelvins")),
    "kmh": ("speed", 1 / 3.6, ("kilometres per hour", "kilometers per hour",
                               "kilometres an hour", "kilometers an hour", "km/h", "kph", "kmh")),
    "mph": ("speed", 0.44704, ("miles per hour", "miles an hour", "mph")),
    "ms": ("speed", 1.0, ("metres per second", "meters per second", "m/s")),
    "kn": ("speed", 0.514444, ("knots", "knot")),
    "s": ("time", 1.0, ("seconds", "second", "secs", "sec", "s")),
    "min": ("time", 60.0, ("minutes", "minute", "mins", "min")),
    "h": ("time", 3600.0, ("hours", "hour", "hrs", "hr", "h")),
    "day": ("time", 86400.0, ("days", "day")),
    "week": ("time", 604800.0, ("weeks", "week")),
}
_ALIAS = {alias: unit for unit, (_, _, aliases) in _UNITS.items() for alias in aliases}
_ALIAS.update({u: u for u in _UNITS})
_UNIT_RX = "|".join(sorted((re.escape(a) for a in _ALIAS), key=len, reverse=True))
_U = rf"(?:degrees? )?(?:{_UNIT_RX})"
_N = r"(?:\d+(?:\.\d+)?|an?|one)"
_CONVERT_FORMS = [
    rf"^how (?:many|much) (?P<to>{_U}) (?:are |is |make |go )?(?:there )?in "
    rf"(?P<value>{_N} )?(?P<from>{_U})$",
    rf"^how (?:many|much) (?P<to>{_U}) (?:is|are|make|in) (?P<value>{_N}) (?P<from>{_U})$",
    rf"^(?:convert )?(?P<value>{_N}) (?P<from>{_U}) (?:to|into|in|as) (?P<to>{_U})$",
    rf"^convert (?P<value>{_N} )?(?P<from>{_U}) (?:to|into|in) (?P<to>{_U})$",
    rf"^(?:what(?:'s| is)|how (?:long|far|heavy|much|fast|hot|cold) is) (?P<value>{_N}) "
    rf"(?P<from>{_U}) (?:in|to|as) (?P<to>{_U})$",
]


def _unit(spoken: str) -> str:
    return _ALIAS[re.sub(r"^degrees? ", "", spoken.lower())]


def _convert_args(m: re.Match[str]) -> dict | None:
    raw = (m.group("value") or "1").strip().lower()
    value = 1.0 if raw in ("a", "an", "one") else float(raw)
    return {"value": value, "from_unit": _unit(m.group("from")), "to_unit": _unit(m.group("to"))}


def _to_base(value: float, unit: str) -> float:
    if unit == "f":
        return (value - 32) * 5 / 9
    if unit == "k":
        return value - 273.15
    return value * _UNITS[unit][1]


def _from_base(value: float, unit: str) -> float:
    if unit == "f":
        return value * 9 / 5 + 32
    if unit == "k":
        return value + 273.15
    return value / _UNITS[unit][1]


_TIME_WORDS = {w for q, _, aliases in _UNITS.values() if q == "time" for a in aliases
               for w in a.split()}


# Unit names, so that the tool gate offers convert_units for "how many feet in a mile";
# time words are left out: "what day is it" or "a timer for an hour" is not a conversion.
@skill(topic="unit conversions",
       read_only=True,
       patterns=[Pattern(re.compile(form, re.IGNORECASE), _convert_args)
                 for form in _CONVERT_FORMS],
       examples=[" ".join(w for _, _, aliases in _UNITS.values() for a in aliases
                          for w in a.split() if w not in _TIME_WORDS)])
def convert_units(value: float, from_unit: str, to_unit: str) -> str:
    """Convert a quantity between units of length, mass, volume, temperature, speed or time.

    Args:
        value: The amount to convert, e.g. 26.2.
        from_unit: Unit of the amount, e.g. "mi", "kg", "f", "mph", "h".
        to_unit: Unit wanted, e.g. "km", "lb", "c", "kmh", "min".
    """
    try:
        src, dst = _ALIAS[from_unit.lower().strip()], _ALIAS[to_unit.lower().strip()]
    except KeyError as exc:
        raise ValueError(f"I don't know the unit {exc.args[0]}") from None
    if _UNITS[src][0] != _UNITS[dst][0]:
        raise ValueError(f"can't convert {_UNITS[src][0]} to {_UNITS[dst][0]}")
    result = _from_base(_to_base(value, src), dst)
    shown = round(result, 2) if abs(result) >= 1 else float(f"{result:.3g}")
    return f"{say_number(value)} {_UNITS[src][2][0]} is {say_number(shown)} {_UNITS[dst][2][0]}."
