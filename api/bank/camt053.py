"""ISO 20022 camt.053 (BankToCustomerStatement), any version of the 001 message.

Read with the standard library after refusing DOCTYPE/ENTITY declarations: ``xml.etree`` does
not protect against entity expansion, and a bank's statement never needs either.

Where things come from, per entry (``Ntry``) and per transaction (``NtryDtls/TxDtls``):
- the amount and direction of the transaction when an entry has several with their own
  ``Amt`` (one line each), otherwise the entry's;
- ``description``: the unstructured remittance text (the ``Ustrd`` pieces joined), then the
  creditor references (``Strd/CdtrRefInf/Ref``) and the ``EndToEndId``, joined by " | " so
  invoice numbers in any of them can be found; ``AddtlTxInf``/``AddtlNtryInf`` when there is
  nothing else;
- ``bank_reference``: the bank's own reference (``AcctSvcrRef``) of the transaction or entry;
- the counterparty is the debtor of a credit (who paid us) and the creditor of a debit.
Entries that are not booked (``Sts`` PDNG or INFO) are skipped with a note.
"""

from __future__ import annotations

import codecs
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from api.bank.statement import (
    Direction,
    ParsedStatement,
    StatementError,
    StatementFormatError,
    StatementLine,
)
from dunning_policies.money import to_minor, validate_currency

NAMESPACE_PREFIX = "urn:iso:std:iso:20022:tech:xsd:camt.053.001."
_DIRECTIONS: dict[str, Direction] = {"CRDT": "credit", "DBIT": "debit"}
_NOT_PROVIDED = "NOTPROVIDED"


class _EntryProblem(Exception):
    def __init__(self, error: StatementError) -> None:
        super().__init__(error.reason)
        self.error = error


@dataclass(frozen=True)
class _Details:
    description: str
    bank_reference: str | None
    counterparty_name: str | None
    counterparty_tax_id: str | None

    def line(
        self, index: int, booked_on: date, amount: Decimal, currency: str, direction: Direction
    ) -> StatementLine:
        return StatementLine(
            line=index,
            booked_on=booked_on,
            amount=amount,
            currency=currency,
            direction=direction,
            description=self.description,
            bank_reference=self.bank_reference,
            counterparty_name=self.counterparty_name,
            counterparty_tax_id=self.counterparty_tax_id,
        )


def refuse_unsafe_xml(data: bytes) -> None:
    # ISO 20022 messages are UTF-8; in UTF-16/32 a byte search for "<!DOCTYPE" would miss it.
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:4]:
        raise StatementFormatError("camt.053: the file is not UTF-8 (ISO 20022 requires UTF-8)")
    upper = data.upper()
    for declaration in (b"<!DOCTYPE", b"<!ENTITY"):
        if declaration in upper:
            raise StatementFormatError(
                f"camt.053: the file contains a {declaration.decode()} declaration; refused "
                "because entities can make the parser expand the file without limit"
            )


def parse_camt053(data: bytes) -> ParsedStatement:
    """Read a camt.053 document. Raises ``StatementFormatError`` for unsafe, malformed or
    non-camt.053 XML; entries that cannot be read become ``StatementError`` entries."""
    refuse_unsafe_xml(data)
    # Some exports put a blank line before the XML declaration, which XML itself forbids.
    data = data.removeprefix(codecs.BOM_UTF8).lstrip()
    try:
        root = ET.fromstring(data)
    except ET.ParseError as error:
        raise StatementFormatError(f"camt.053: not well-formed XML ({error})") from error
    namespace = root.tag[1:].partition("}")[0] if root.tag.startswith("{") else ""
    if not namespace.startswith(NAMESPACE_PREFIX):
        raise StatementFormatError(
            f"camt.053: the root element {root.tag!r} is not in a {NAMESPACE_PREFIX}* namespace"
        )
    return _Reader(namespace).statement(root)


class _Reader:
    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.parsed = ParsedStatement(
            lines=[], rejected=[], notes=[], account=None, currency=None, format="camt.053"
        )

    def _path(self, path: str) -> str:
        return "/".join(f"{{{self.namespace}}}{step}" for step in path.split("/"))

    def find(self, element: ET.Element, path: str) -> ET.Element | None:
        return element.find(self._path(path))

    def findall(self, element: ET.Element, path: str) -> list[ET.Element]:
        return element.findall(self._path(path))

    def text(self, element: ET.Element, *paths: str) -> str | None:
        """The stripped text at the first of ``paths`` that has some."""
        for path in paths:
            found = self.find(element, path)
            if found is not None and found.text and found.text.strip():
                return found.text.strip()
        return None

    def statement(self, root: ET.Element) -> ParsedStatement:
        statements = self.findall(root, "BkToCstmrStmt/Stmt")
        if not statements:
            raise StatementFormatError("camt.053: no BkToCstmrStmt/Stmt element")
        accounts: list[str] = []
        account_currencies: set[str] = set()
        entry_index = 0
        for statement in statements:
            account = self.text(statement, "Acct/Id/IBAN", "Acct/Id/Othr/Id")
            if account and account not in accounts:
                accounts.append(account)
            if currency := self.text(statement, "Acct/Ccy"):
                account_currencies.add(currency.upper())
            for entry in self.findall(statement, "Ntry"):
                entry_index += 1
                try:
                    self.parsed.lines.extend(self.entry(entry_index, entry))
                except _EntryProblem as problem:
                    self.parsed.rejected.append(problem.error)
        self.parsed.account = accounts[0] if accounts else None
        if len(accounts) > 1:
            self.parsed.notes.append(f"statements of several accounts: {', '.join(accounts)}")
        currencies = account_currencies or {line.currency for line in self.parsed.lines}
        self.parsed.currency = currencies.pop() if len(currencies) == 1 else None
        return self.parsed

    def entry(self, index: int, entry: ET.Element) -> list[StatementLine]:
        status = self.text(entry, "Sts/Cd", "Sts")
        if status is not None and status != "BOOK":
            self.parsed.notes.append(f"entry {index}: status {status}, not booked; skipped")
            return []
        if (self.text(entry, "RvslInd") or "").lower() == "true":
            self.parsed.notes.append(f"entry {index}: a reversal (RvslInd), read as it stands")
        amount, currency = self.amount(index, entry, "Amt", "Ntry/Amt")
        direction = self.direction(index, entry, "Ntry/CdtDbtInd")
        booked_on = self.booked_on(index, entry)
        transactions = self.findall(entry, "NtryDtls/TxDtls")
        if len(transactions) > 1 and all(self._tx_amount(tx) is not None for tx in transactions):
            return self._split(index, entry, transactions, booked_on, direction, amount)
        details = self.details(entry, transactions, direction)
        return [details.line(index, booked_on, amount, currency, direction)]

    def _split(
        self,
        index: int,
        entry: ET.Element,
        transactions: list[ET.Element],
        booked_on: date,
        entry_direction: Direction,
        entry_amount: Decimal,
    ) -> list[StatementLine]:
        lines = []
        for tx in transactions:
            tx_amount_path = "Amt" if self.find(tx, "Amt") is not None else "AmtDtls/TxAmt/Amt"
            amount, currency = self.amount(index, tx, tx_amount_path, f"TxDtls/{tx_amount_path}")
            direction = entry_direction
            if self.text(tx, "CdtDbtInd"):
                direction = self.direction(index, tx, "TxDtls/CdtDbtInd")
            details = self.details(entry, [tx], direction)
            lines.append(details.line(index, booked_on, amount, currency, direction))
        total = sum((line.amount for line in lines), Decimal(0))
        if total != entry_amount:
            self.parsed.notes.append(
                f"entry {index}: its transactions add up to {total}, the entry says {entry_amount}"
            )
        return lines

    def _tx_amount(self, tx: ET.Element) -> str | None:
        return self.text(tx, "Amt", "AmtDtls/TxAmt/Amt")

    def amount(
        self, index: int, element: ET.Element, path: str, column: str
    ) -> tuple[Decimal, str]:
        found = self.find(element, path)
        raw = (found.text or "").strip() if found is not None else ""
        try:
            amount = Decimal(raw)
        except InvalidOperation as error:
            reason = "missing" if not raw else "not a number"
            raise _EntryProblem(StatementError(index, column, raw, reason)) from error
        if not amount.is_finite() or amount <= 0:
            raise _EntryProblem(StatementError(index, column, raw, "must be a positive amount"))
        ccy = (found.get("Ccy") or "") if found is not None else ""
        try:
            currency = validate_currency(ccy)
            to_minor(amount, currency)
        except ValueError as error:
            raise _EntryProblem(StatementError(index, f"{column}/@Ccy", ccy, str(error))) from error
        return amount, currency

    def direction(self, index: int, element: ET.Element, column: str) -> Direction:
        raw = self.text(element, "CdtDbtInd") or ""
        if raw not in _DIRECTIONS:
            reason = "must be CRDT (money in) or DBIT (money out)"
            raise _EntryProblem(StatementError(index, column, raw, reason))
        return _DIRECTIONS[raw]

    def booked_on(self, index: int, entry: ET.Element) -> date:
        raw = self.text(entry, "BookgDt/Dt", "BookgDt/DtTm")
        if raw is None:
            raw = self.text(entry, "ValDt/Dt", "ValDt/DtTm")
            if raw is not None:
                self.parsed.notes.append(f"entry {index}: no booking date; used the value date")
        try:
            return date.fromisoformat((raw or "")[:10])
        except ValueError as error:
            reason = "missing" if raw is None else "not a date (YYYY-MM-DD)"
            raise _EntryProblem(StatementError(index, "Ntry/BookgDt", raw or "", reason)) from error

    def details(
        self, entry: ET.Element, transactions: list[ET.Element], direction: Direction
    ) -> _Details:
        parts: list[str] = []
        names: list[str] = []
        tax_ids: list[str] = []
        references: list[str] = []
        for tx in transactions:
            # Ustrd is cut into 140-character pieces: one text again.
            unstructured = " ".join(
                t.text.strip() for t in self.findall(tx, "RmtInf/Ustrd") if t.text
            )
            texts = [unstructured] if unstructured else []
            texts += [
                t.text.strip() for t in self.findall(tx, "RmtInf/Strd/CdtrRefInf/Ref") if t.text
            ]
            end_to_end = self.text(tx, "Refs/EndToEndId")
            if end_to_end and end_to_end != _NOT_PROVIDED:
                texts.append(end_to_end)
            if not texts and (additional := self.text(tx, "AddtlTxInf")):
                texts.append(additional)
            parts.extend(text for text in texts if text and text not in parts)
            party = "RltdPties/Dbtr" if direction == "credit" else "RltdPties/Cdtr"
            if name := self.text(tx, f"{party}/Nm", f"{party}/Pty/Nm"):
                names.append(name)
            tax_id = self.text(
                tx,
                f"{party}/Id/OrgId/Othr/Id",
                f"{party}/Pty/Id/OrgId/Othr/Id",
                f"{party}/Id/PrvtId/Othr/Id",
                f"{party}/Pty/Id/PrvtId/Othr/Id",
            )
            if tax_id:
                tax_ids.append(tax_id)
            if reference := self.text(tx, "Refs/AcctSvcrRef"):
                references.append(reference)
        if not parts and (additional := self.text(entry, "AddtlNtryInf")):
            parts.append(additional)
        entry_reference = self.text(entry, "AcctSvcrRef", "NtryRef")
        return _Details(
            description=" | ".join(parts),
            bank_reference=references[0] if len(references) == 1 else entry_reference,
            counterparty_name=names[0] if len(set(names)) == 1 else None,
            counterparty_tax_id=tax_ids[0] if len(set(tax_ids)) == 1 else None,
        )
