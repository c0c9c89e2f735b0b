"""Request and response bodies of promises, payment plans, disputes and the promises report."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import Money
from dunning_policies.state import DisputeCode

PromiseSource = Literal["portal", "debtor_reply", "collector"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NextActionOut(BaseModel):
    action: str
    at: datetime | None
    detail: str | None


class PromiseIn(_Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"promised_date": "2026-12-15", "source": "portal", "note": "aguinaldo"}]
        },
    )

    promised_date: date
    amount: Money | None = Field(default=None, description="Absent: all that is due.")
    source: PromiseSource = "portal"
    note: str | None = Field(default=None, max_length=2000)


class PromiseOut(BaseModel):
    number: str
    promised_date: date
    amount: Money | None
    source: str
    next_action: NextActionOut


class InstalmentIn(_Body):
    due_on: date
    amount: Money


class PaymentPlanIn(_Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "instalments": [
                        {"due_on": "2026-12-20", "amount": "625000"},
                        {"due_on": "2027-01-20", "amount": "625000"},
                    ],
                    "source": "portal",
                }
            ]
        },
    )

    instalments: list[InstalmentIn] = Field(
        min_length=1, max_length=120, description="In order; numbered 1, 2, 3… as given."
    )
    source: PromiseSource = "portal"


class InstalmentOut(BaseModel):
    number: int
    due_on: date
    amount: Money


class PaymentPlanOut(BaseModel):
    number: str
    plan_id: str
    instalments: list[InstalmentOut]
    next_action: NextActionOut


class DisputeIn(_Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"code": "not_received", "reason": "la mercadería no llegó"}]
        },
    )

    code: DisputeCode = DisputeCode.OTHER
    reason: str = Field(min_length=1, max_length=2000)
    owner: str | None = Field(
        default=None, min_length=1, description="Who works the case; the policy's desk if absent."
    )


class DisputeResolutionIn(_Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"upheld": True, "note": "guía no firmada", "credit_amount": "250000"}]
        },
    )

    upheld: bool
    note: str = Field(default="", max_length=2000)
    credit_amount: Money | None = Field(
        default=None, description="Upheld in part: the credit's amount (all that is due if absent)."
    )


class SignalledOut(BaseModel):
    number: str
    delivered_to_workflow: bool
    """False when the invoice's workflow had already ended."""


class DisputeCaseOut(BaseModel):
    case_id: str
    invoice_number: str
    customer_id: str
    code: str
    reason: str
    owner: str
    opened_at: datetime
    deadline: date
    status: str
    currency: str
    resolved_at: datetime | None
    resolution_note: str | None
    credit_amount: Money | None


class DisputeList(BaseModel):
    items: list[DisputeCaseOut]


class PromiseReportOut(BaseModel):
    customer_id: str | None
    since: date | None
    kept: int
    broken: int
    rate: float | None = Field(description="kept / (kept + broken); null while none is settled.")
