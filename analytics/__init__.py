"""Collections intelligence: a synthetic book of invoices with realistic payers, the policy
simulator, the payment-date forecast and the customers' risk score. Seeded randomness lives
here, never in the pure policy engine (dunning_policies), which the simulator calls."""
