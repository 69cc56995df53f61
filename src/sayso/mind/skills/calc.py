"""Arithmetic and unit conversion, said in words ("what's 12 times 7", "5 miles in kilometres")."""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable

from sayso.mind.skills import SkillResult
from sayso.mind.text import say_number

_WORD_OPS = (
    (r"\bmultiplied by\b|\btimes\b|(?<=\d)\s*[x×]\s*(?=\d)", " * "),
    (r"\bdivided by\b|\bover\b|÷", " / "),
    (r"\bplus\b|\badded to\b", " + "),
    (r"\bminus\b|\btake away\b|\bless\b", " - "),
    (r"\bto the power of\b|\bto the\b|\braised to\b", " ** "),
    (r"\bsquared\b", " ** 2 "),
    (r"\bcubed\b", " ** 3 "),
    (r"\s*(?:%|percent)\s+of\s+", " / 100 * "),
    (r"\bmod(?:ulo)?\b", " % "),
)
_SQRT = re.compile(r"\bsquare root of\s+(\d+(?:\.\d+)?)")
_ASK = re.compile(
    r"^(?:so |ok |okay |hey )?(?:what's|whats|what is|calculate|compute|how much is|what does|work out|tell me)\s+"
)
_EXPRESSION = re.compile(r"^[\d.\s+\-*/%()]+$")
_OPS: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.Pow: operator.pow, ast.Mod: operator.mod,
}  # fmt: skip


def evaluate(expression: str) -> float:
    """The value of an arithmetic expression of numbers, + - * / ** % and brackets (ValueError otherwise)."""
    expression = _SQRT.sub(lambda m: f"({m[1]}) ** 0.5", expression)
    if not _EXPRESSION.match(expression) or not re.search(r"\d", expression):
        raise ValueError("not arithmetic")
    return _eval(ast.parse(expression.strip(), mode="eval").body)


def _eval(node: ast.AST) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _eval(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow) and (abs(right) > 1000 or abs(left) > 1e6):
            raise OverflowError("too large")
        return _OPS[type(node.op)](left, right)
    raise ValueError("not arithmetic")


def arithmetic(text: str) -> SkillResult | None:
    """Answer "what's 12 times 7" and the like; None when the text is not a sum."""
    asked = _ASK.sub("", text)
    bare_sum = re.match(r"^[\d.\s]+(?:[+\-*/x×]|times|plus|minus|divided)", text)  # "100 divided by 4"
    if not _SQRT.search(text) and (not re.search(r"\d", asked) or (asked == text and not bare_sum)):
        return None
    expression = asked
    for pattern, symbol in _WORD_OPS:
        expression = re.sub(pattern, symbol, expression)
    expression = re.sub(r"^(?:the )|\b(?:equal|equals|is|make|makes)\s*$", "", expression.strip())
    if not re.search(r"[+\-*/%]|\*\*", expression) and not _SQRT.search(expression):
        return None
    try:
        value = evaluate(expression)
    except ZeroDivisionError:
        return SkillResult("skill:math", "That has no answer: you can't divide by zero.")
    except (ValueError, SyntaxError):
        return None
    except OverflowError:
        return SkillResult("skill:math", "That number is too large for me to say.")
    return SkillResult("skill:math", f"That's {say_number(value)}.")


# unit name -> (dimension, size in the base unit); temperatures are handled apart
_UNITS: dict[str, tuple[str, float]] = {
    "millimeter": ("length", 0.001), "centimeter": ("length", 0.01), "meter": ("length", 1.0),
    "kilometer": ("length", 1000.0), "inch": ("length", 0.0254), "foot": ("length", 0.3048),
    "yard": ("length", 0.9144), "mile": ("length", 1609.344),
    "milligram": ("mass", 0.001), "gram": ("mass", 1.0), "kilogram": ("mass", 1000.0), "kilo": ("mass", 1000.0),
    "ounce": ("mass", 28.349523125), "pound": ("mass", 453.59237), "stone": ("mass", 6350.29318),
    "milliliter": ("volume", 0.001), "liter": ("volume", 1.0), "cup": ("volume", 0.2365882365),
    "pint": ("volume", 0.473176473), "quart": ("volume", 0.946352946), "gallon": ("volume", 3.785411784),
    "teaspoon": ("volume", 0.00492892159), "tablespoon": ("volume", 0.0147867648),
    "fluid ounce": ("volume", 0.0295735296),
    "second": ("time", 1.0), "minute": ("time", 60.0), "hour": ("time", 3600.0), "day": ("time", 86400.0),
    "week": ("time", 604800.0), "year": ("time", 31557600.0),
    "celsius": ("temperature", 0.0), "fahrenheit": ("temperature", 0.0), "kelvin": ("temperature", 0.0),
}  # fmt: skip
_ALIASES = {
    "km": "kilometer", "cm": "centimeter", "mm": "millimeter", "m": "meter", "kg": "kilogram", "g": "gram",
    "mg": "milligram", "lb": "pound", "lbs": "pound", "oz": "ounce", "ml": "milliliter", "l": "liter",
    "feet": "foot", "inches": "inch", "ft": "foot", "in": "inch", "mph": "mile", "degrees celsius": "celsius",
    "degrees fahrenheit": "fahrenheit", "centigrade": "celsius", "c": "celsius", "f": "fahrenheit",
    "tsp": "teaspoon", "tbsp": "tablespoon",
}  # fmt: skip


def _unit(word: str) -> str | None:
    word = word.strip().replace("metre", "meter").replace("litre", "liter")
    word = re.sub(r"^degrees? ", "", word) if word not in _ALIASES else word
    if word in _ALIASES and word not in ("in", "m", "c", "f", "l", "g"):
        return _ALIASES[word]
    for name in (word, word[:-1] if word.endswith("s") else word, word[:-2] if word.endswith("es") else word):
        if name in _UNITS:
            return name
    return _ALIASES.get(word) if word in ("c", "f") else None


_BRITISH = ("metres", "metre", "litres", "litre", "kilometres", "centimetres", "millimetres", "millilitres")
_NAMES = sorted([*_UNITS, *(u + "s" for u in _UNITS), *_ALIASES, *_BRITISH, "degrees"], key=len, reverse=True)
_UNIT_RE = r"(?:degrees? )?(?:" + "|".join(re.escape(n) for n in _NAMES) + r")"
_CONVERT = re.compile(
    rf"(?P<v>-?\d+(?:\.\d+)?|an?|one)\s*(?P<src>{_UNIT_RE})\s+(?:to|in|into|as|is how many"
    rf"|in terms of)\s+(?P<dst>{_UNIT_RE})\b"
)
_HOW_MANY = re.compile(
    rf"how many\s+(?P<dst>{_UNIT_RE})\s+(?:are |is |make |in |to )+(?:an? "
    rf"|one )?(?P<v>-?\d+(?:\.\d+)?)?\s*(?P<src>{_UNIT_RE})\b"
)


def convert(text: str) -> SkillResult | None:
    """Answer "5 miles in km" and "how many grams in a pound"; None when the text is not a conversion."""
    match = _CONVERT.search(text) or _HOW_MANY.search(text)
    if not match:
        return None
    src, dst = _unit(match["src"]), _unit(match["dst"])
    raw = match["v"] or "1"
    value = 1.0 if raw in ("a", "an", "one") else float(raw)
    if src is None or dst is None:
        return None
    if _UNITS[src][0] != _UNITS[dst][0]:
        return SkillResult("skill:convert", f"I can't turn {src}s into {dst}s: they measure different things.")
    result = (
        _temperature(value, src, dst) if _UNITS[src][0] == "temperature" else value * _UNITS[src][1] / _UNITS[dst][1]
    )
    plural = "" if abs(result - 1) < 1e-9 else "s"
    dst_name = dst + plural if dst not in ("celsius", "fahrenheit", "kelvin") else f"degrees {dst}"
    if dst == "foot" and plural:
        dst_name = "feet"
    return SkillResult(
        "skill:convert", f"{say_number(value)} {_spoken_unit(src, value)} is {say_number(result)} {dst_name}."
    )


def _spoken_unit(unit: str, value: float) -> str:
    if unit in ("celsius", "fahrenheit", "kelvin"):
        return f"degrees {unit}"
    if abs(value - 1) < 1e-9:
        return unit
    return "feet" if unit == "foot" else "inches" if unit == "inch" else unit + "s"


def _temperature(value: float, src: str, dst: str) -> float:
    celsius = {"celsius": value, "fahrenheit": (value - 32) * 5 / 9, "kelvin": value - 273.15}[src]
    return {"celsius": celsius, "fahrenheit": celsius * 9 / 5 + 32, "kelvin": celsius + 273.15}[dst]


def calculate(text: str) -> SkillResult | None:
    """A unit conversion or a sum, whichever the text asks for."""
    return convert(text) or arithmetic(text)
