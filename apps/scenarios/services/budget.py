"""The run budget: a run's size is drivers x curve-tenors x paths, known at submit from the curve catalog,
and a run over ``AURUM_SCENARIO_RUN_BUDGET`` is refused (422) before it can occupy a worker.

- drivers: the scenario's top-level assumptions (at least 1);
- curve-tenors: the selection's (curve, tenor) cells, an upper bound from the catalog
  (``apps.scenarios.selectors.selection_size``);
- paths: ``n_paths`` when a stochastic driver draws paths, else 1 (a deterministic run draws none).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from apps.scenarios.engine.memory import stochastic_count
from apps.scenarios.selection import SelectionSize
from apps.scenarios.services.inputs import RunOptions
from aurum.errors import UnprocessableError

FORMULA = "drivers x curve_tenors x paths"


@dataclass(frozen=True)
class RunSize:
    drivers: int
    curves: int
    curve_tenors: int
    paths: int

    @property
    def total(self) -> int:
        return self.drivers * self.curve_tenors * self.paths

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_size": self.total,
            "drivers": self.drivers,
            "curves": self.curves,
            "curve_tenors": self.curve_tenors,
            "paths": self.paths,
            "computed": f"{self.drivers} x {self.curve_tenors} x {self.paths} = {self.total}",
        }


def run_size(
    *, assumptions: Sequence[Mapping[str, Any]], selection: SelectionSize, options: RunOptions
) -> RunSize:
    return RunSize(
        drivers=max(len(assumptions), 1),
        curves=selection.curves,
        curve_tenors=selection.curve_tenors,
        paths=options.n_paths if stochastic_count(assumptions) else 1,
    )


def run_budget_check(sizes: Sequence[tuple[int | None, RunSize]]) -> None:
    """Raise UnprocessableError (422) naming the budget and every run over it (``index`` in a bulk call)."""
    budget = settings.AURUM_SCENARIO_RUN_BUDGET
    over = [(index, size) for index, size in sizes if size.total > budget]
    if not over:
        return
    index, first = over[0]
    size = f"size {first.total:,} ({FORMULA}: {first.drivers} x {first.curve_tenors:,} x {first.paths:,})"
    if index is None:
        detail = f"The run's {size} exceeds the run budget of {budget:,}."
    else:
        indices = ", ".join(str(i) for i, _ in over)
        detail = f"Run(s) {indices} exceed the run budget of {budget:,}; run {index} has {size}."
    detail += " Use fewer paths, curves or drivers."
    runs = [{"index": i, **size.as_dict()} for i, size in over if i is not None]
    extra: dict[str, Any] = {"budget": budget, "formula": FORMULA, **first.as_dict()}
    if runs:
        extra["runs"] = runs
    raise UnprocessableError(detail, slug="run-budget-exceeded", **extra)
