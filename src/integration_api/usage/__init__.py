"""The usage ledger: what every provider call used and cost, budgets over it."""
