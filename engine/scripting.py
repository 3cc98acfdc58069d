"""The sandbox every BPMN script, condition, timer expression and DMN cell runs in.

Layers, each tested in tests/engine/test_sandbox.py:

1. Compile time (``SandboxPolicy``, a RestrictedPython policy): underscore names and
   attributes, imports, exec/eval, class definitions, bare ``except:`` and ``finally``
   are refused, so the code is never executed. ``*``, ``**``, ``<<``, ``+`` and ``%``
   are rewritten into size-checked calls.
2. Run time guards: attribute access through ``safer_getattr`` (no ``str.format``),
   capped ``range``/``pow`` and string or list methods that can amplify memory.
3. A budget enforced by ``sys.settrace`` on the script's own frames: at most
   ``max_steps`` executed lines, ``max_seconds`` wall time, ``max_memory_mb`` growth of
   resident memory (Linux), and no variable longer than ``max_sequence_length``. The
   budget error derives from BaseException and the constructs that could swallow it are
   refused at compile time.

RestrictedPython is not a hard sandbox: BPMN and DMN files are code, reviewed in git and
deployed by administrators. Citizen input is data and never reaches ``compile``.
"""

from __future__ import annotations

import ast
import copy
import operator
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from types import CodeType, FrameType
from typing import Any, Literal
from uuid import UUID

from RestrictedPython.compile import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from RestrictedPython.PrintCollector import PrintCollector
from RestrictedPython.transformer import RestrictingNodeTransformer
from SpiffWorkflow.bpmn.script_engine import TaskDataEnvironment

from engine.calendar import WorkCalendar, add_jalali_months, to_jalali
from engine.errors import InvalidTaskData, ScriptLimitExceeded, ScriptRejected

# SpiffWorkflow reports the failing script line by looking for frames with this name.
SCRIPT_FILENAME = "<string>"
EXPRESSION_FILENAME = "<expression>"
_SANDBOX_FILENAMES = frozenset({SCRIPT_FILENAME, EXPRESSION_FILENAME})

# Builtins a script could use to reach outside the sandbox: refused at compile time so
# validation reports them, not just a NameError at run time.
_FORBIDDEN_NAMES = frozenset(
    {
        "open", "eval", "exec", "compile", "getattr", "setattr", "delattr", "globals",
        "locals", "vars", "dir", "type", "object", "super", "input", "breakpoint", "help",
        "memoryview", "bytearray", "exit", "quit", "id",
    }
)  # fmt: skip

# Literal format widths (f-strings, %-formatting) above this are refused.
MAX_FORMAT_WIDTH = 10_000

Mode = Literal["exec", "eval"]


@dataclass(frozen=True)
class SandboxLimits:
    """Budgets for one script or expression evaluation."""

    max_steps: int = 100_000
    max_seconds: float = 2.0
    max_sequence_length: int = 1_000_000
    max_range: int = 100_000
    max_int_bits: int = 65_536
    # Growth of the process's resident memory while the script runs (checked every 16 lines).
    max_memory_mb: int = 256


class _BudgetExceeded(BaseException):
    """Raised from the trace function; BaseException so scripts cannot catch it."""


class SandboxPolicy(RestrictingNodeTransformer):
    """RestrictedPython policy with Parvaneh's extra refusals and size guards."""

    _GUARDED_BINOPS: Mapping[type[ast.operator], str] = {
        ast.Add: "+",
        ast.Mult: "*",
        ast.Pow: "**",
        ast.LShift: "<<",
        ast.Mod: "%",
    }

    def visit_Import(self, node: ast.Import) -> Any:
        self.error(node, "import statements are not allowed in BPMN scripts.")
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> Any:
        self.error(node, "import statements are not allowed in BPMN scripts.")
        return node

    def visit_Name(self, node: ast.Name) -> Any:
        if node.id in _FORBIDDEN_NAMES:
            self.error(node, f'"{node.id}" is not available in BPMN scripts.')
        return super().visit_Name(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> Any:
        self.error(node, "class definitions are not allowed in BPMN scripts.")
        return node

    def visit_Try(self, node: ast.Try) -> Any:
        # A finally block would run after the step budget stopped tracing.
        if node.finalbody:
            self.error(node, "try/finally is not allowed in BPMN scripts.")
        return super().visit_Try(node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> Any:
        if node.type is None:
            self.error(node, "bare 'except:' is not allowed; name the exception type.")
        return super().visit_ExceptHandler(node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> Any:
        spec = node.format_spec
        if isinstance(spec, ast.JoinedStr):
            for part in spec.values:
                if isinstance(part, ast.FormattedValue):
                    self.error(node, "computed format specifications are not allowed.")
                elif isinstance(part, ast.Constant) and _too_wide(str(part.value)):
                    self.error(node, f"format width above {MAX_FORMAT_WIDTH} is not allowed.")
        return super().visit_FormattedValue(node)

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        visited = super().visit_BinOp(node)
        if not isinstance(visited, ast.BinOp):
            return visited
        symbol = self._GUARDED_BINOPS.get(type(visited.op))
        if symbol is None:
            return visited
        call = ast.Call(
            func=ast.Name("_binop_", ast.Load()),
            args=[ast.Constant(symbol), visited.left, visited.right],
            keywords=[],
        )
        ast.copy_location(call, visited)
        return ast.fix_missing_locations(call)


def _too_wide(spec: str) -> bool:
    return any(int(number) > MAX_FORMAT_WIDTH for number in re.findall(r"\d+", spec))


_PERCENT_FIELD = re.compile(r"%[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_percent_format(template: str | bytes) -> None:
    text = template.decode("latin-1") if isinstance(template, bytes) else template
    for width, precision in _PERCENT_FIELD.findall(text):
        for part in (width, precision):
            if part == "*" or (part and int(part) > MAX_FORMAT_WIDTH):
                raise ScriptLimitExceeded("%-format width is too large")


@lru_cache(maxsize=4096)
def _compile(source: str, mode: Mode) -> CodeType | tuple[str, ...]:
    if mode == "exec":
        result = compile_restricted_exec(source, SCRIPT_FILENAME, policy=SandboxPolicy)
    else:
        result = compile_restricted_eval(source, EXPRESSION_FILENAME, policy=SandboxPolicy)
    if result.errors:
        return tuple(result.errors)
    code: CodeType | None = result.code
    if code is None:
        return ("compilation produced no code",)
    return code


def compile_check(source: str | None, mode: Mode) -> list[str]:
    """Return the sandbox's compile errors for ``source`` (empty when it compiles)."""
    if source is None or not source.strip():
        return ["empty script or expression"]
    compiled = _compile(source.strip() if mode == "eval" else source, mode)
    return list(compiled) if isinstance(compiled, tuple) else []


def compile_sandboxed(source: str, mode: Mode) -> CodeType:
    """Compile ``source`` under the sandbox policy or raise ScriptRejected."""
    compiled = _compile(source.strip() if mode == "eval" else source, mode)
    if isinstance(compiled, tuple):
        raise ScriptRejected("; ".join(compiled))
    return compiled


class _Guards:
    """Run-time guards, bound to one set of limits."""

    def __init__(self, limits: SandboxLimits) -> None:
        self.limits = limits

    def check_length(self, length: int) -> None:
        if length > self.limits.max_sequence_length:
            raise ScriptLimitExceeded(
                f"result would hold {length} items (limit {self.limits.max_sequence_length})"
            )

    def check_int(self, bits: int) -> None:
        if bits > self.limits.max_int_bits:
            raise ScriptLimitExceeded(
                f"integer result too large (over {self.limits.max_int_bits} bits)"
            )

    def binop(self, symbol: str, left: Any, right: Any) -> Any:
        if symbol == "*":
            self._check_repeat(left, right)
            self._check_repeat(right, left)
            if _is_int(left) and _is_int(right):
                self.check_int(left.bit_length() + right.bit_length())
            return left * right
        if symbol == "**":
            return self.power(left, right)
        if symbol == "<<":
            if _is_int(left) and _is_int(right) and left and right > 0:
                self.check_int(left.bit_length() + right)
            return left << right
        if symbol == "+":
            if isinstance(left, (str, bytes, list, tuple)) and isinstance(right, type(left)):
                self.check_length(len(left) + len(right))
            return left + right
        if symbol == "%":
            if isinstance(left, (str, bytes)):
                _check_percent_format(left)
            return left % right
        raise ScriptRejected(f"operator {symbol} is not guarded")

    def _check_repeat(self, sequence: Any, times: Any) -> None:
        if isinstance(sequence, (str, bytes, list, tuple)) and _is_int(times):
            self.check_length(len(sequence) * max(times, 0))

    def power(self, base: Any, exponent: Any, modulo: Any = None) -> Any:
        if modulo is not None:
            return pow(base, exponent, modulo)
        if _is_int(base) and _is_int(exponent) and exponent > 0 and abs(base) > 1:
            self.check_int(base.bit_length() * exponent)
        return base**exponent

    def inplace(self, op: str, left: Any, right: Any) -> Any:
        symbol = op[:-1]
        if symbol in ("+", "*", "**", "<<", "%"):
            return self.binop(symbol, left, right)
        return _INPLACE_OPERATORS[symbol](left, right)

    def range(self, *args: int) -> range:
        result = range(*args)
        if len(result) > self.limits.max_range:
            raise ScriptLimitExceeded(
                f"range of {len(result)} items (limit {self.limits.max_range})"
            )
        return result

    def getattr(self, obj: Any, name: str, default: Any = None) -> Any:
        value = safer_getattr(obj, name, default)  # type: ignore[no-untyped-call]
        if isinstance(obj, (str, bytes)) and name in _STRING_AMPLIFIERS:
            return _STRING_AMPLIFIERS[name](self, obj, value)
        if isinstance(obj, list) and name == "extend":
            return self._guarded_extend(obj)
        if obj in (str, bytes, list) and (name in _STRING_AMPLIFIERS or name == "extend"):
            # Unbound use such as str.join(sep, parts) must meet the same guard.
            return self._guarded_unbound(obj, name)
        return value

    def _guarded_unbound(self, cls: type, name: str) -> Callable[..., Any]:
        def unbound(target: Any, *args: Any, **kwargs: Any) -> Any:
            if not isinstance(target, cls):
                raise TypeError(f"{cls.__name__}.{name} needs a {cls.__name__}")
            return self.getattr(target, name)(*args, **kwargs)

        return unbound

    def _guarded_extend(self, target: list[Any]) -> Callable[[Iterable[Any]], None]:
        def extend(items: Iterable[Any]) -> None:
            materialized = list(items)
            self.check_length(len(target) + len(materialized))
            target.extend(materialized)

        return extend


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _width_guard(guards: _Guards, text: Any, method: Any) -> Callable[..., Any]:
    def guarded(width: int, *args: Any) -> Any:
        guards.check_length(width)
        return method(width, *args)

    return guarded


def _replace_guard(guards: _Guards, text: Any, method: Any) -> Callable[..., Any]:
    def guarded(old: Any, new: Any, count: int = -1) -> Any:
        hits = text.count(old) if old else len(text) + 1
        if count >= 0:
            hits = min(hits, count)
        guards.check_length(len(text) + hits * max(len(new) - len(old), 0))
        return method(old, new, count)

    return guarded


def _join_guard(guards: _Guards, text: Any, method: Any) -> Callable[..., Any]:
    def guarded(items: Iterable[Any]) -> Any:
        parts = list(items)
        total = len(text) * max(len(parts) - 1, 0)
        total += sum(len(part) for part in parts if isinstance(part, (str, bytes)))
        guards.check_length(total)
        return method(parts)

    return guarded


def _expandtabs_guard(guards: _Guards, text: Any, method: Any) -> Callable[..., Any]:
    def guarded(tabsize: int = 8) -> Any:
        tab = "\t" if isinstance(text, str) else b"\t"
        guards.check_length(len(text) + text.count(tab) * max(tabsize, 0))
        return method(tabsize)

    return guarded


def _refused(guards: _Guards, text: Any, method: Any) -> Callable[..., Any]:
    def guarded(*args: Any, **kwargs: Any) -> Any:
        raise ScriptRejected("this string method is not available in BPMN scripts")

    return guarded


_STRING_AMPLIFIERS: Mapping[str, Callable[[_Guards, Any, Any], Callable[..., Any]]] = {
    "ljust": _width_guard,
    "rjust": _width_guard,
    "center": _width_guard,
    "zfill": _width_guard,
    "replace": _replace_guard,
    "join": _join_guard,
    "expandtabs": _expandtabs_guard,
    "translate": _refused,
    "maketrans": _refused,
}

_INPLACE_OPERATORS: Mapping[str, Callable[[Any, Any], Any]] = {
    "-": operator.sub,
    "/": operator.truediv,
    "//": operator.floordiv,
    ">>": operator.rshift,
    "|": operator.or_,
    "&": operator.and_,
    "^": operator.xor,
    "@": operator.matmul,
}

_PLAIN_BUILTINS: tuple[Any, ...] = (
    abs, all, any, bool, callable, chr, dict, divmod, enumerate, filter, float, hex,
    int, isinstance, len, list, map, max, min, oct, ord, repr, reversed, round,
    slice, sorted, str, sum, tuple, zip,
    ArithmeticError, AssertionError, AttributeError, Exception, IndexError, KeyError,
    LookupError, NameError, NotImplementedError, OverflowError, RuntimeError,
    StopIteration, TypeError, UnicodeError, ValueError, ZeroDivisionError,
)  # fmt: skip


def _builtins(guards: _Guards) -> dict[str, Any]:
    names: dict[str, Any] = {obj.__name__: obj for obj in _PLAIN_BUILTINS}
    names.update(range=guards.range, pow=guards.power)
    return names


def rials(amount: Any) -> int:
    """Round an amount to whole rials (half up); money in task data is always int rials."""
    if isinstance(amount, bool) or not isinstance(amount, (int, float, Decimal, str)):
        raise TypeError(f"rials() needs a number, got {type(amount).__name__}")
    return int(Decimal(str(amount)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _parse_day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    raise TypeError(f"expected an ISO date string, got {type(value).__name__}")


def script_helpers(calendar: WorkCalendar, clock: Callable[[], datetime]) -> dict[str, Any]:
    """Build the helper functions scripts may call (the whole whitelist beyond builtins)."""

    def local_today() -> date:
        return clock().astimezone(calendar.tz).date()

    def jalali_today() -> str:
        """Today in Tehran as a Jalali 'YYYY-MM-DD' string."""
        return to_jalali(local_today())

    def to_jalali_date(value: Any) -> str:
        """Convert an ISO date (or datetime) string to a Jalali 'YYYY-MM-DD' string."""
        return to_jalali(_parse_day(value))

    def today() -> str:
        """Today in Tehran as an ISO (Gregorian) date string."""
        return local_today().isoformat()

    def working_days(n: int) -> str:
        """Deadline n working days from now at end of office day, as an ISO datetime."""
        return calendar.deadline(clock(), int(n)).isoformat()

    def add_working_days(start: Any, n: int) -> str:
        """The Nth working day after an ISO date, as an ISO date."""
        return calendar.add_working_days(_parse_day(start), int(n)).isoformat()

    def working_days_between(start: Any, end: Any) -> int:
        """Working days after ``start`` up to and including ``end``."""
        return calendar.working_days_between(_parse_day(start), _parse_day(end))

    def now() -> str:
        """The current moment in Tehran as an ISO datetime; its first ten characters are the
        local date, so the day helpers read it as the Tehran day (never the UTC one)."""
        return clock().astimezone(calendar.tz).isoformat()

    def working_days_since(start: Any) -> int:
        """Working days after ``start``'s date up to and including today (Tehran): the part of a
        working-day budget already used, e.g. when a review is paused for a correction."""
        return calendar.working_days_between(_parse_day(start), local_today())

    def working_days_left(total: int, used: int) -> str:
        """Deadline for the rest of a ``total``-working-day budget of which ``used`` days are
        spent, counted from today like ``working_days`` (at least one working day)."""
        return calendar.deadline(clock(), max(1, int(total) - int(used))).isoformat()

    def add_months(start: Any, n: int) -> str:
        """Add Jalali months to an ISO date (clamped to month end), as an ISO date."""
        return add_jalali_months(_parse_day(start), int(n)).isoformat()

    def jalali_year(value: Any) -> int:
        """The Jalali year of an ISO date (or datetime) string, e.g. to pick a tariff book."""
        return int(to_jalali(_parse_day(value))[:4])

    return {
        "jalali_today": jalali_today,
        "to_jalali": to_jalali_date,
        "today": today,
        "working_days": working_days,
        "add_working_days": add_working_days,
        "working_days_between": working_days_between,
        "now": now,
        "working_days_since": working_days_since,
        "working_days_left": working_days_left,
        "add_months": add_months,
        "jalali_year": jalali_year,
        "rials": rials,
        "timedelta": timedelta,
        "date": date,
        "datetime": datetime,
        "Decimal": Decimal,
    }


def utc_now() -> datetime:
    """Return the current time in UTC (freezegun and time-machine control it in tests)."""
    return datetime.now(UTC)


# Names a form field or task-data key may not use: they would shadow sandbox globals.
RESERVED_DATA_NAMES: frozenset[str] = frozenset(
    script_helpers(WorkCalendar(), utc_now)
) | frozenset({"dmninputexpr", "printed"})

_JSON_SCALARS = (str, int, float, bool, type(None))
# Types the serializer registry converts exactly (see engine/serializer.py).
_CONVERTED_TYPES = (date, datetime, timedelta, Decimal, UUID)


def check_json_native(value: Any, path: str = "data") -> None:
    """Raise InvalidTaskData unless ``value`` survives a JSON round trip unchanged."""
    if isinstance(value, (*_JSON_SCALARS, *_CONVERTED_TYPES)):
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            check_json_native(item, f"{path}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidTaskData(f"{path} has a non-string key {key!r}")
            check_json_native(item, f"{path}.{key}")
        return
    raise InvalidTaskData(
        f"{path} is a {type(value).__name__}; task data must be JSON-native "
        "(use lists for tuples and sets, ISO strings for dates, int rials for money)"
    )


_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _resident_bytes() -> int | None:
    # Linux only; elsewhere the memory budget is not enforced (the size guards still are).
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return None


class _Budget:
    """Counts executed lines of sandboxed frames and stops runaway scripts."""

    __slots__ = ("deadline", "limits", "resident_at_start", "steps")

    def __init__(self, limits: SandboxLimits) -> None:
        self.limits = limits
        self.steps = 0
        self.deadline = time.monotonic() + limits.max_seconds
        # Read lazily: most expressions end long before the first memory check.
        self.resident_at_start: int | None = None

    def trace_calls(self, frame: FrameType, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename in _SANDBOX_FILENAMES:
            return self.trace_lines
        return None

    def trace_lines(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line":
            self.steps += 1
            if self.steps > self.limits.max_steps:
                raise _BudgetExceeded(f"script exceeded {self.limits.max_steps} steps")
            if self.steps % 256 == 0 and time.monotonic() > self.deadline:
                raise _BudgetExceeded(f"script exceeded {self.limits.max_seconds} s")
            if self.steps % 16 == 0:
                self._check_memory()
            self._check_sizes(frame)
        return self.trace_lines

    def _check_memory(self) -> None:
        resident = _resident_bytes()
        if resident is None:
            return
        if self.resident_at_start is None:
            self.resident_at_start = resident
        elif resident - self.resident_at_start > self.limits.max_memory_mb * 1024 * 1024:
            raise _BudgetExceeded(f"script used more than {self.limits.max_memory_mb} MB")

    def _check_sizes(self, frame: FrameType) -> None:
        limit = self.limits.max_sequence_length
        for name, value in frame.f_locals.items():
            if isinstance(value, (str, bytes, list, dict, tuple, set)) and len(value) > limit:
                raise _BudgetExceeded(f"variable {name} grew beyond {limit} items")


class RestrictedEnvironment(TaskDataEnvironment):  # type: ignore[misc]
    """SpiffWorkflow script environment that compiles with RestrictedPython and runs on a budget."""

    def __init__(self, helpers: Mapping[str, Any], limits: SandboxLimits | None = None) -> None:
        self.limits = limits or SandboxLimits()
        guards = _Guards(self.limits)
        super().__init__(
            {
                "__builtins__": _builtins(guards),
                "_getattr_": guards.getattr,
                "_getitem_": operator.getitem,
                "_getiter_": iter,
                "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
                "_unpack_sequence_": guarded_unpack_sequence,
                "_write_": full_write_guard,
                "_inplacevar_": guards.inplace,
                "_binop_": guards.binop,
                "_apply_": _apply,
                "_print_": PrintCollector,
                **helpers,
            }
        )

    def evaluate(
        self,
        expression: str,
        context: dict[str, Any],
        external_context: dict[str, Any] | None = None,
    ) -> Any:
        """Evaluate an expression (condition, timer, DMN cell, parameter) in the sandbox."""
        code = compile_sandboxed(expression, "eval")
        namespace = copy.copy(self.globals)
        namespace.update(external_context or {})
        namespace.update(context)
        return self._run(code, namespace, evaluate=True)

    def execute(
        self,
        script: str,
        context: dict[str, Any],
        external_context: dict[str, Any] | None = None,
    ) -> bool:
        """Run a script task (or pre/post script) in the sandbox against the task data."""
        code = compile_sandboxed(script, "exec")
        self.check_for_overwrite(context, external_context or {})
        namespace = copy.copy(self.globals)
        namespace.update(external_context or {})
        context.update(namespace)
        try:
            self._run(code, context, evaluate=False)
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
        check_json_native(context, "script result")
        return True

    def _run(self, code: CodeType, namespace: dict[str, Any], *, evaluate: bool) -> Any:
        budget = _Budget(self.limits)
        previous = sys.gettrace()
        sys.settrace(budget.trace_calls)
        try:
            if evaluate:
                return eval(code, namespace)  # noqa: S307 - compiled by the sandbox policy
            exec(code, namespace)  # noqa: S102 - compiled by the sandbox policy
            return None
        except _BudgetExceeded as exc:
            raise ScriptLimitExceeded(str(exc)) from None
        finally:
            sys.settrace(previous)


def _apply(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return function(*args, **kwargs)
