"""Is a pattern risk control typed safe to run on every call? Checked when the library is saved.

A pattern is refused when it does not compile, matches the empty text (it would find something
everywhere), or would be catastrophically slow: a repeat holding another unbounded repeat
(`(a+)+`, `(.*x)*`) is refused on sight, and every pattern is then run, in a separate process
with a time limit, over hostile texts built from its own characters. Python's `re` cannot be
interrupted, so only a process of its own can be stopped when a pattern runs away.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from carloan.compliance.text import NUMBER

try:  # Python 3.11+: the parser lives in re._parser
    from re import _constants as sre_constants  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

MAX_PATTERN_LENGTH = 400
MAX_PATTERNS = 80
HOSTILE_LENGTH = 5_000
TIME_LIMIT_SECONDS = 2.0
MAX_REPEAT = sre_constants.MAXREPEAT
_REPEATS = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT)


def expand(pattern: str) -> str:
    """The regular expression a library pattern stands for (`{N}`: a number)."""
    return pattern.replace("{N}", NUMBER)


def _walk(parsed: Any) -> Iterator[tuple[Any, Any]]:
    for op, av in parsed:
        yield op, av
        if op in _REPEATS:
            yield from _walk(av[2])
        elif op is sre_constants.SUBPATTERN:
            yield from _walk(av[-1])
        elif op is sre_constants.BRANCH:
            for branch in av[1]:
                yield from _walk(branch)
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            yield from _walk(av[1])


def _unbounded(op: Any, av: Any) -> bool:
    return op in _REPEATS and (av[1] is MAX_REPEAT or av[1] > 50)


def _nested_repeat(parsed: Any) -> bool:
    for op, av in _walk(parsed):
        if _unbounded(op, av) and any(_unbounded(o, a) for o, a in _walk(av[2])):
            return True
    return False


def _literals(parsed: Any) -> str:
    chars = {chr(av) for op, av in _walk(parsed) if op is sre_constants.LITERAL}
    return "".join(sorted(chars))


def static_problem(pattern: str) -> str | None:
    """Why `pattern` cannot be saved, judged without running it; None when it may be tried."""
    if not isinstance(pattern, str) or not pattern.strip():
        return "a pattern may not be empty"
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"is {len(pattern)} characters long; at most {MAX_PATTERN_LENGTH} are allowed"
    try:
        compiled = re.compile(expand(pattern))
    except re.error as exc:
        return f"does not compile: {exc}"
    if compiled.search("") is not None:
        return "matches the empty text, so it would find something everywhere"
    if _nested_repeat(sre_parse.parse(expand(pattern))):
        return (
            "repeats a part that itself repeats without bound (like (a+)+): it can take "
            "exponential time on some texts"
        )
    return None


def hostile_texts(pattern: str) -> list[str]:
    """Texts built to make a backtracking pattern slow: its own characters, repeated."""
    own = _literals(sre_parse.parse(expand(pattern))) or "a"
    pieces = {own, own[:1], own[-1:], "a", "1", "0.", " ", "包", "百分之", own + " "}
    return [
        (piece * (HOSTILE_LENGTH // len(piece) + 1))[:HOSTILE_LENGTH] + "\x00" for piece in pieces
    ]


_RUNNER = """
import json, re, sys
data = json.load(sys.stdin)
for pattern in data["patterns"]:
    compiled = re.compile(pattern)
    for text in data["texts"][pattern]:
        for _ in compiled.finditer(text):
            pass
print("ok")
"""


def slow_patterns(patterns: Sequence[str], time_limit: float = TIME_LIMIT_SECONDS) -> list[str]:
    """The patterns that do not get through their hostile texts within `time_limit` seconds
    (all of them together first; one by one only when that fails, to name the culprit)."""
    if not patterns:
        return []
    if _runs_in_time(patterns, time_limit):
        return []
    return [p for p in patterns if not _runs_in_time([p], time_limit)]


def _runs_in_time(patterns: Sequence[str], time_limit: float) -> bool:
    payload = json.dumps(
        {
            "patterns": [expand(p) for p in patterns],
            "texts": {expand(p): hostile_texts(p) for p in patterns},
        }
    )
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-S", "-c", _RUNNER],
            input=payload,
            capture_output=True,
            text=True,
            timeout=time_limit,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0 and done.stdout.strip() == "ok"


def pattern_problems(patterns: Sequence[str]) -> dict[int, str]:
    """{index: why} for every pattern of a category that cannot be saved; {} when all can."""
    problems: dict[int, str] = {}
    if len(patterns) > MAX_PATTERNS:
        return {MAX_PATTERNS: f"a category holds at most {MAX_PATTERNS} patterns"}
    for index, pattern in enumerate(patterns):
        problem = static_problem(pattern)
        if problem is not None:
            problems[index] = problem
    if problems:
        return problems
    for slow in slow_patterns(list(patterns)):
        problems[list(patterns).index(slow)] = (
            f"takes more than {TIME_LIMIT_SECONDS:g} s on a hostile text of "
            f"{HOSTILE_LENGTH:,} characters: it would be catastrophically slow"
        )
    return problems
