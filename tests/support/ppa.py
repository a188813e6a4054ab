"""The PPA tests' as-of day: before the real files' range and the scenario tests' days."""

from datetime import date

PPA_DAY = date(2025, 5, 14)
