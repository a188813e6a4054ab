"""curve_key and version_hash are compatibility contracts with the original Aurum (spec 2.1)."""

from __future__ import annotations

import hashlib
from datetime import date

from apps.ingestion.parsers.identity import curve_key, derive_region, normalise_token, version_hash


def test_spec_example_curve_key() -> None:
    key = curve_key("power", "pjm", "us", "aeco", "da", "power", "on_peak", "aeco hub")

    assert key.startswith("b897bf63")
    assert key.endswith("ad8e5")
    assert key == "b897bf63b9732a4d967210f49b638e8d507cce8672bce9c97cf965a9f71ad8e5"


def test_tokens_are_trimmed_collapsed_and_lowercased() -> None:
    messy = curve_key("  Power ", "PJM", "US", "AECO", "DA", "POWER", "ON_PEAK", "AECO \t  HUB")

    assert messy == curve_key("power", "pjm", "us", "aeco", "da", "power", "on_peak", "aeco hub")
    assert normalise_token("  a \n b  ") == "a b"


def test_null_tokens_hash_as_empty_strings() -> None:
    key = curve_key("power", "PJM", "US", "AECO", "DA", "power", None, None)

    assert key == hashlib.sha256(b"power|pjm|us|aeco|da|power||").hexdigest()
    assert key == "646b7e09ff653784525addfd37645bb6de4d98998f8c2c0242956a6a73df3bdb"  # PW golden strips curve


def test_version_hash_matches_golden() -> None:
    expected = "3e44be31476aec5680ba0d39838ecb49b63875828a0d1bf3b37ba0b97ada1e95"

    assert version_hash("pw_golden.xlsx", "Fixed Prices - Mid", date(2025, 1, 1)) == expected
    assert version_hash("pw_golden.xlsx", "Fixed Prices - Mid", "2025-01-01") == expected
    assert expected == hashlib.sha256(b"pw_golden.xlsx|Fixed Prices - Mid|2025-01-01|").hexdigest()


def test_region_from_iso_then_location() -> None:
    assert derive_region("PJM", None) == "US"
    assert derive_region("aeso", None) == "CA"
    assert derive_region("UK", "NBP") == "EU"
    assert derive_region("EE", "Hungary") is None
    assert derive_region(None, None) is None
