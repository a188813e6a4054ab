"""Scenarios: named sets of driver assumptions, their runs and outputs."""
