"""Proposing which open invoice each bank statement line pays.

The rules, in order (the product spec):
(a) one of our invoice numbers appears in the line's reference or description, in the line's
    currency → matched; several → suggested, all of them candidates, for a collector to split;
(b) the counterparty's tax id is an open invoice's customer tax id and the amount equals that
    invoice's amount due → matched; several such invoices → suggested, oldest due first;
(c) the amount equals an open invoice's amount due (same currency) due within
    ``date_window_days`` of the booking date → suggested with the nearest due date; equally near
    ones are all candidates;
(d) otherwise unmatched, with the reason each rule failed. Debits are never customer payments.

A line that is *matched* consumes its invoice: later lines of the same statement do not match
it again through (b) or (c), so two equal transfers cannot both pay one invoice by amount. Rule
(a) still matches a consumed invoice, because a payer who names the invoice twice is paying it
in parts. Suggestions consume nothing: a collector decides.

Indexes are dicts keyed by invoice key, (tax id, currency, amount) and (currency, amount), so
the work grows with lines + invoices, not their product.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from babel.numbers import format_decimal

from api.bank.invoice_refs import compact_tax_id, invoice_key, invoice_keys_in
from api.bank.statement import StatementLine
from dunning_policies.money import currency_exponent

MatchStatus = Literal["matched", "suggested", "unmatched"]
MatchRule = Literal["invoice_number", "tax_id_and_amount", "amount_and_due_date"]
DEBIT_REASON = "a debit (money out), not a customer payment"
_LOCALE_OF_CURRENCY = {"CLP": "es_CL", "MXN": "es_MX", "COP": "es_CO", "PEN": "es_PE",
                       "ARS": "es_AR", "UYU": "es_UY", "BRL": "pt_BR"}  # fmt: skip


@dataclass(frozen=True)
class OpenInvoice:
    number: str
    customer_id: str
    customer_tax_id: str | None
    amount_due: Decimal
    currency: str
    due_on: date


@dataclass(frozen=True)
class LineMatch:
    """The proposal for one statement line.

    ``invoice_number`` is the invoice paid (matched) or proposed (suggested with a single
    candidate); None when several candidates remain or nothing matched. ``rule`` is the rule
    that decided, None when unmatched. ``candidates`` lists every invoice a collector should
    look at, including one named in the reference but in another currency.
    """

    line: StatementLine
    status: MatchStatus
    invoice_number: str | None
    rule: MatchRule | None
    reason: str
    candidates: tuple[str, ...]


def _by_due_date(invoices: list[OpenInvoice]) -> list[OpenInvoice]:
    return sorted(invoices, key=lambda invoice: (invoice.due_on, invoice.number))


class _Index:
    def __init__(self, invoices: Sequence[OpenInvoice]) -> None:
        by_key: defaultdict[str, list[OpenInvoice]] = defaultdict(list)
        by_tax: defaultdict[tuple[str, str, Decimal], list[OpenInvoice]] = defaultdict(list)
        by_amount: defaultdict[tuple[str, Decimal], list[OpenInvoice]] = defaultdict(list)
        self.tax_ids: set[str] = set()
        for invoice in invoices:
            currency = invoice.currency.upper()
            by_key[invoice_key(invoice.number)].append(invoice)
            by_amount[currency, invoice.amount_due].append(invoice)
            if tax_id := compact_tax_id(invoice.customer_tax_id):
                self.tax_ids.add(tax_id)
                by_tax[tax_id, currency, invoice.amount_due].append(invoice)
        self.by_key = dict(by_key)
        self.by_tax = {key: _by_due_date(group) for key, group in by_tax.items()}
        self.by_amount = {key: _by_due_date(group) for key, group in by_amount.items()}
        self.due_dates = {key: [i.due_on for i in group] for key, group in self.by_amount.items()}
        self.consumed: set[str] = set()

    def named_in(self, line: StatementLine) -> list[OpenInvoice]:
        named: dict[str, OpenInvoice] = {}
        text = f"{line.bank_reference or ''} {line.description}"
        for key in invoice_keys_in(text):
            for invoice in self.by_key.get(key, ()):
                named.setdefault(invoice.number, invoice)
        return list(named.values())

    def nearest_due(
        self, currency: str, amount: Decimal, booked_on: date, window_days: int
    ) -> tuple[list[OpenInvoice], list[OpenInvoice]]:
        """The unconsumed invoices of this amount due nearest the booking date (within the
        window), and the consumed ones passed over on the way."""
        group = self.by_amount.get((currency, amount), [])
        dates = self.due_dates.get((currency, amount), [])
        left, right = bisect_left(dates, booked_on) - 1, bisect_left(dates, booked_on)
        nearest: list[OpenInvoice] = []
        skipped: list[OpenInvoice] = []
        best: int | None = None
        while left >= 0 or right < len(group):
            left_gap = (booked_on - dates[left]).days if left >= 0 else None
            right_gap = (dates[right] - booked_on).days if right < len(group) else None
            take_left = right_gap is None or (left_gap is not None and left_gap <= right_gap)
            gap = left_gap if take_left else right_gap
            assert gap is not None  # one side is always left, by the loop condition
            if gap > window_days or (best is not None and gap > best):
                break
            invoice = group[left] if take_left else group[right]
            if take_left:
                left -= 1
            else:
                right += 1
            if invoice.number in self.consumed:
                skipped.append(invoice)
                continue
            best = gap
            nearest.append(invoice)
        return _by_due_date(nearest), skipped


def match_statement(
    lines: Sequence[StatementLine],
    open_invoices: Sequence[OpenInvoice],
    *,
    date_window_days: int = 45,
) -> list[LineMatch]:
    """One ``LineMatch`` per line, in the lines' order (which decides who consumes first)."""
    index = _Index(open_invoices)
    return [_match_line(line, index, date_window_days) for line in lines]


def _numbers(invoices: Sequence[OpenInvoice]) -> tuple[str, ...]:
    return tuple(invoice.number for invoice in invoices)


def _decide(
    line: StatementLine, index: _Index, rule: MatchRule, found: list[OpenInvoice], reason: str
) -> LineMatch:
    if len(found) == 1 and rule != "amount_and_due_date":
        index.consumed.add(found[0].number)
        return LineMatch(line, "matched", found[0].number, rule, reason, _numbers(found))
    single = found[0].number if len(found) == 1 else None
    return LineMatch(line, "suggested", single, rule, reason, _numbers(found))


def _match_line(line: StatementLine, index: _Index, window_days: int) -> LineMatch:
    if line.direction == "debit":
        return LineMatch(line, "unmatched", None, None, DEBIT_REASON, ())
    currency = line.currency.upper()
    named = index.named_in(line)
    same_currency = [invoice for invoice in named if invoice.currency.upper() == currency]
    if same_currency:
        reason = (
            f"invoice {same_currency[0].number} is named in the reference"
            if len(same_currency) == 1
            else f"several invoices are named in the reference: {_list(same_currency)}"
        )
        return _decide(line, index, "invoice_number", same_currency, reason)

    tax_id = compact_tax_id(line.counterparty_tax_id)
    by_tax = index.by_tax.get((tax_id, currency, line.amount), []) if tax_id else []
    of_customer = [invoice for invoice in by_tax if invoice.number not in index.consumed]
    if of_customer:
        reason = (
            f"the payer's tax id and the amount match invoice {of_customer[0].number}"
            if len(of_customer) == 1
            else f"the payer's tax id and the amount match {_list(of_customer)}"
        )
        return _decide(line, index, "tax_id_and_amount", of_customer, reason)

    nearest, skipped = index.nearest_due(currency, line.amount, line.booked_on, window_days)
    if nearest:
        reason = (
            f"only the amount matches; invoice {nearest[0].number} is due {nearest[0].due_on}"
            if len(nearest) == 1
            else f"only the amount matches; equally near due dates: {_list(nearest)}"
        )
        return _decide(line, index, "amount_and_due_date", nearest, reason)

    reasons = [
        _why_not_by_number(named, currency),
        _why_not_by_tax_id(tax_id, index, by_tax),
        _why_not_by_amount(line, skipped),
    ]
    return LineMatch(line, "unmatched", None, None, ", ".join(reasons), _numbers(named))


def _list(invoices: Sequence[OpenInvoice]) -> str:
    return ", ".join(invoice.number for invoice in invoices)


def _why_not_by_number(named: list[OpenInvoice], currency: str) -> str:
    if not named:
        return "no invoice number in the reference"
    currencies = ", ".join(sorted({invoice.currency for invoice in named}))
    return (
        f"invoice {_list(named)} is named in the reference but is in {currencies}, not {currency}"
    )


def _why_not_by_tax_id(tax_id: str | None, index: _Index, by_tax: list[OpenInvoice]) -> str:
    if tax_id is None:
        return "no payer tax id"
    if by_tax:
        return f"the customer's invoice of that amount ({_list(by_tax)}) is already matched"
    if tax_id in index.tax_ids:
        return "no open invoice of that customer for that amount"
    return "no customer with that tax id and amount"


def _why_not_by_amount(line: StatementLine, skipped: list[OpenInvoice]) -> str:
    reason = (
        f"no open invoice of {format_money(line.amount, line.currency)} due near {line.booked_on}"
    )
    if skipped:
        reason += f" ({_list(skipped)} already matched by an earlier line)"
    return reason


def format_money(amount: Decimal, currency: str) -> str:
    """As a person in that currency's country writes it: 1.234.567 CLP, 1,234.56 MXN."""
    code = currency.upper()
    try:
        decimals = currency_exponent(code)
    except ValueError:
        return f"{amount} {code}"
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    locale = _LOCALE_OF_CURRENCY.get(code, "en_US")
    return f"{format_decimal(amount, format=pattern, locale=locale)} {code}"
