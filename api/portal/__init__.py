"""The debtors' portal: a signed, expiring link in every message opens the customer's
statement, with pay, "I already paid", dispute and promise-to-pay."""
