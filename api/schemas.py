"""The HTTP API's request and response bodies. Money travels as a decimal string, never a float."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from api.countries import defaults_for_country
from dunning_policies.jurisdictions import DebtType


def _no_float(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError('money is a decimal string such as "1250000" or "12500.50", not a float')
    return value


Money = Annotated[
    Decimal,
    BeforeValidator(_no_float),
    PlainSerializer(lambda d: str(d), return_type=str),
    Field(json_schema_extra={"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}),
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CustomerIn(_Body):
    id: str = Field(min_length=1, description="The ERP's customer code.")
    name: str = Field(min_length=1)
    tax_id: str | None = Field(default=None, description="RUT, RFC, NIT or RUC.")
    email: str | None = None
    phone: str | None = Field(default=None, description="E.164, e.g. +56912345678.")
    whatsapp: str | None = None
    country: str = Field(default="CL", min_length=2, max_length=2)
    timezone: str | None = Field(default=None, description="IANA; defaults by country.")
    locale: str | None = Field(default=None, description="e.g. es_CL; defaults by country.")
    segment: str | None = None
    debt_type: DebtType | None = Field(
        default=None,
        description="Whose debt: the law's contact rules differ. Absent: the tax id says (a "
        "Chilean RUT from 50.000.000, a 12-character RFC: business), else consumer.",
    )
    subdivision: str | None = Field(
        default=None,
        max_length=64,
        description="ISO 3166-2 code without the country, e.g. RM: its regional holidays are "
        "not contact days either.",
    )

    def with_defaults(self) -> CustomerIn:
        defaults = defaults_for_country(self.country)
        return self.model_copy(
            update={
                "country": self.country.upper(),
                "timezone": self.timezone or defaults.timezone,
                "locale": self.locale or defaults.locale,
            }
        )


class InvoiceIn(_Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "number": "F-20931",
                    "customer": {
                        "id": "C-0042",
                        "name": "Ferretería Los Andes SpA",
                        "tax_id": "76.086.428-5",
                        "email": "pagos@losandes.cl",
                        "phone": "+56912345678",
                        "country": "CL",
                        "segment": "standard",
                    },
                    "amount": "1250000",
                    "currency": "CLP",
                    "issued_on": "2026-11-02",
                    "due_on": "2026-12-02",
                }
            ]
        },
    )

    number: str = Field(min_length=1, description="The invoice number (folio).")
    customer: CustomerIn
    amount: Money
    currency: str = Field(min_length=3, max_length=3)
    issued_on: date
    due_on: date


class IssuedOut(BaseModel):
    number: str
    workflow_id: str
    segment: str
    policy: str
    policy_version: int
    created: bool


class InvoiceChangeIn(_Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"due_on": "2026-12-20", "reason": "plazo extendido"}]},
    )

    due_on: date | None = None
    amount: Money | None = None
    reason: str | None = None


class AmendedOut(BaseModel):
    number: str
    due_on: date
    amount: Money
    delivered_to_workflow: bool


class CancelIn(_Body):
    reason: str = Field(min_length=1, examples=["anulada por el ERP"])


class CancelledOut(BaseModel):
    number: str
    delivered_to_workflow: bool


class CreditNoteIn(_Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"id": "NC-311", "invoice_number": "F-20931", "amount": "250000", "reason": "dev"}
            ]
        },
    )

    id: str = Field(min_length=1, description="The credit note's own number.")
    invoice_number: str = Field(min_length=1)
    amount: Money
    issued_on: date | None = None
    reason: str | None = None


class CreditNoteOut(BaseModel):
    id: str
    invoice_number: str
    amount: Money
    currency: str
    created: bool
    delivered_to_workflow: bool


class PaymentIn(_Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "invoice_number": "F-20931",
                    "amount": "1250000",
                    "currency": "CLP",
                    "paid_at": "2026-12-03T11:20:00-03:00",
                    "reference": "TRX-889102",
                },
                {
                    "customer_id": "C-0042",
                    "amount": "3100000",
                    "currency": "CLP",
                    "reference": "TRX-889555",
                },
            ]
        },
    )

    invoice_number: str | None = Field(default=None, min_length=1)
    customer_id: str | None = Field(
        default=None, min_length=1, description="Pay by customer: spread oldest-first."
    )
    amount: Money
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    paid_at: datetime | None = None
    reference: str | None = Field(
        default=None, description="The bank's or gateway's reference; makes the call idempotent."
    )


class AllocationOut(BaseModel):
    invoice_number: str
    payment_id: str
    amount: Money
    delivered_to_workflow: bool


class PaymentOut(BaseModel):
    payment_id: str
    status: Literal["applied", "unapplied", "allocated"]
    amount: Money
    currency: str
    invoice_number: str | None = None
    customer_id: str | None = None
    allocations: list[AllocationOut] = []
    credit: Money = Decimal(0)
    created: bool = True


class TimelineEntry(BaseModel):
    at: datetime
    kind: str
    step_id: str | None
    channel: str | None
    template: str | None
    status: str | None
    detail: dict[str, Any]


class InvoiceOut(BaseModel):
    number: str
    customer_id: str
    currency: str
    amount: Money
    amount_due: Money
    issued_on: date
    due_on: date
    stage: str
    segment: str
    policy: str
    policy_version: int
    workflow_id: str
    next_action: str | None
    next_action_at: datetime | None
    closed_reason: str | None


class InvoiceDetailOut(InvoiceOut):
    timeline: list[TimelineEntry]


class InvoicePage(BaseModel):
    items: list[InvoiceOut]
    page: int
    page_size: int
    total: int


class CustomerStatementOut(BaseModel):
    id: str
    name: str
    tax_id: str | None
    country: str
    segment: str | None
    balances: dict[str, Money] = Field(description="Amount due per currency, open items only.")
    credits: dict[str, Money] = Field(description="Credit balance per currency.")
    open_items: list[InvoiceOut]
    blocked_channels: dict[str, str]
    timeline: list[TimelineEntry]


class FieldProblem(BaseModel):
    field: str | None = None
    message: str


class ProblemDetail(FieldProblem):
    """An error a person can act on: which field, and what is wrong with it."""

    errors: list[FieldProblem] | None = Field(
        default=None, description="Every invalid field, when there are several."
    )


class Problem(BaseModel):
    """The body of every error answer."""

    detail: ProblemDetail
