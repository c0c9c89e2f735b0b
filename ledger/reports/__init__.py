"""Reports: read-only SQL aggregates over the ledger, for the operations dashboard."""
