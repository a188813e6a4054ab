"""PPA contracts and their valuation against scenario curves."""
