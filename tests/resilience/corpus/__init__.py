"""The bad-input corpus (issue 14): hostile and malformed workbooks and requests, built in memory by the
modules here (``python -m tests.resilience.corpus.build DIR`` writes the workbooks out as files)."""
