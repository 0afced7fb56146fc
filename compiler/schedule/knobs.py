"""Knobs: the parameters of a default-schedule rule, declared by the rule as it runs.

A rule asks its builder's `Knobs` for each decision it makes
(`knobs.pick("rows", choices, default)`), as AutoTVM's templates define
their knobs inside the schedule function. Without values (the default
schedule) `pick` returns the rule's own default and records the knob with
its legal choices; with values (a point of the tuner's search space) it
returns the point's value. So the knob list, its defaults and the rule stay
in one place, and the rule with no values behaves exactly as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Knob:
    """One tunable decision of a rule: its legal choices (JSON scalars) and the rule's default."""

    name: str
    choices: tuple[Any, ...]
    default: Any


class Knobs:
    """The knob values a rule runs with (None: its defaults), and the knobs it declared."""

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        self.values = dict(values) if values is not None else None
        self.declared: dict[str, Knob] = {}
        self.registers = 0
        """The most SIMD registers one register tile of the rule needs (accumulators and operands)."""

    @property
    def tuning(self) -> bool:
        """Whether the rule runs a point of a search space rather than its defaults."""
        return self.values is not None

    def declare(self, name: str, choices: Iterable[Any], default: Any) -> None:
        """Record a knob (the first declaration of a name wins); the default is always a choice."""
        if name in self.declared:
            return
        unique = list(dict.fromkeys(choices))
        if default not in unique:
            unique.append(default)
        self.declared[name] = Knob(name, tuple(unique), default)

    def pick(self, name: str, choices: Iterable[Any], default: Any) -> Any:
        """The value of knob `name`: the point's when tuning (and given), else `default`."""
        self.declare(name, choices, default)
        if self.values is not None and name in self.values:
            return self.values[name]
        return default

    def use_registers(self, count: int) -> None:
        """A register tile needs `count` SIMD registers (the tuner rejects more than the target has)."""
        self.registers = max(self.registers, count)
