"""Arithmetic and unit conversion. Expressions are parsed with Python's ``ast`` and evaluated
node by node over numbers and + - * / ^ only: never ``eval``."""

from __future__ import annotations

import ast
import math
import operator
import re

from assistant.skills import Pattern, skill

_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.Div: operator.truediv, ast.Pow: operator.pow, ast.Mod: operator.mod,
        ast.FloorDiv: operator.floordiv}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}


def evaluate(expression: str) -> float:
    """Value of an arithmetic expression ('17*23', '2^10', '(1+2)/3'); ValueError otherwise."""
    try:
        tree = ast.parse(expression.replace("^", "**").replace("×", "*").replace("÷", "/"),
                         mode="eval")
    except SyntaxError:
        raise ValueError(f"'{expression}' is not an arithmetic expression") from None

    def walk(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return node.value
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return _UNARY[type(node.op)](walk(node.operand))
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            left, right = walk(node.left), walk(node.right)
            # Bound the size of the result, not just the exponent: (10^999)^999 would
            # otherwise hold the interpreter for minutes building a billion-digit integer.
            if isinstance(node.op, ast.Pow) and (abs(right) > 1000 or (
                    abs(left) > 1 and abs(right) * math.log10(abs(left)) > 10_000)):
                raise ValueError("that number is too large")
            return _OPS[type(node.op)](left, right)
        raise ValueError(f"'{expression}' contains something other than arithmetic")

    try:
        return walk(tree.body)
    except ZeroDivisionError:
        raise ValueError("you can't divide by zero") from None
    except OverflowError:
        raise ValueError("that number is too large") from None


def say_number(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}" if abs(value) >= 1e6 else str(int(value))
    return f"{value:.6g}" if abs(value) < 1e6 else f"{value:.4g}"


_SPOKEN_OPS = [(r"\bmultiplied by\b|\btimes\b|(?<=\d) ?x ?(?=\d)", "*"),
               (r"\bdivided by\b|\bover\b", "/"), (r"\bplus\b|\badded to\b", "+"),
               (r"\bminus\b|\btake away\b", "-"), (r"\bto the power of\b|\braised to\b", "^"),
               (r"\bsquared\b", "^2"), (r"\bcubed\b", "^3"), (r"\bmod(?:ulo)?\b", "%")]
_EXPR = re.compile(r"^(?:what(?:'s| is)?|how much is|calculate|compute|work out|solve|"
                   r"what do you get (?:for|if you do))?\s*(?P<expr>[\d.\s()+\-*/^%]+?)\s*"
                   r"(?:equals?|is)?$", re.IGNORECASE)


def _calc_args(m: re.Match[str]) -> dict | None:
    text = m.string
    for rx, op in _SPOKEN_OPS:
        text = re.sub(rx, f" {op} ", text, flags=re.IGNORECASE)
    em = _EXPR.match(" ".join(text.split()))
    if em is None or not re.search(r"\d\s*[-+*/^%]\s*[\d(]|\^\s*\d", em.group("expr")):
        return None
    return {"expression": re.sub(r"\s+", "", em.group("expr"))}


# Spoken operators, so that the tool gate offers calculate for "six multiplied by seven".
@skill(read_only=True,
       patterns=[Pattern(re.compile(r"\d", re.IGNORECASE), _calc_args)],
       examples=["plus minus multiplied divided over squared cubed power modulo sum product"])
def calculate(expression: str) -> str:
    """Work out an arithmetic expression with + - * / ^ and parentheses.

    Args:
        expression: The arithmetic, e.g. "17*23" or "(2.5+4)/3".
    """
    return f"{expression.replace('*', ' times ').replace('/', ' divided by ')} is " \
           f"{say_number(evaluate(expression))}."


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
@skill(read_only=True,
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
