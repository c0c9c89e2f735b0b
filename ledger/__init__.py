"""The ledger: every table, query and migration of the dunning product."""
