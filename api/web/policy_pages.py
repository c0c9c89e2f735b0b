"""Policies as people read them: each drawn as a timeline around the due date (offsets,
channels, tone, the collector's step, the handoff), with a preview of one invoice's contacts
for a chosen due date and country — the same pure engine the workflows run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.countries import COUNTRY_DEFAULTS, defaults_for_country
from api.web.i18n import request_language, translate
from api.web.session import WebUser, signed_in
from api.web.templating import render
from dunning_policies.jurisdictions import DebtType
from dunning_policies.language import Handoff, Negotiate, Policy, Remind
from dunning_policies.preview import PlannedStep, plan, preview_state
from dunning_policies.registry import UnknownPolicy, all_policies, get_policy

router = APIRouter(include_in_schema=False)
AXIS_LEFT, AXIS_RIGHT, AXIS_Y = 40, 920, 70
HANDOFF_GAP_DAYS = 5


@dataclass(frozen=True)
class Mark:
    """One step on the drawn timeline."""

    step_id: str
    kind: str
    day: float
    x: float
    label: str
    tone: str | None
    row: int


def timeline_marks(policy: Policy) -> tuple[list[Mark], float, float]:
    """The steps at their offsets (the handoff after the last collector attempt can lapse),
    and the axis's first and last day."""
    placed: list[tuple[Any, float]] = []
    last: float = 0
    for step in policy.steps:
        match step:
            case Remind(offset_days=offset) | Negotiate(offset_days=offset):
                placed.append((step, offset))
                end = offset + (step.sla_days if isinstance(step, Negotiate) else 0)
                last = max(last, end)
    for step in policy.steps:
        if isinstance(step, Handoff):
            placed.append((step, last + HANDOFF_GAP_DAYS))
    first = min([0, *(day for _, day in placed)])
    final = max([0, *(day for _, day in placed)])
    span = max(final - first, 1)

    def x(day: float) -> float:
        return AXIS_LEFT + (day - first) * (AXIS_RIGHT - AXIS_LEFT) / span

    marks = []
    for index, (step, day) in enumerate(placed):
        match step:
            case Remind(channels=channels, tone=tone):
                label = " / ".join(channel.value for channel in channels[:2])
                marks.append(Mark(step.id, "remind", day, x(day), label, tone.value, index % 2))
            case Negotiate(queue=queue, sla_days=sla):
                marks.append(
                    Mark(
                        step.id, "negotiate", day, x(day), f"{queue} · SLA {sla}d", None, index % 2
                    )
                )
            case Handoff(agency=agency):
                marks.append(Mark(step.id, "handoff", day, x(day), agency, None, index % 2))
    return marks, first, final


@router.get("/app/policies")
async def policies(request: Request, user: Annotated[WebUser, Depends(signed_in())]) -> Response:
    return render(
        request, "policies/list.html", {"section": "policies", "policies": all_policies()}
    )


@router.get("/app/policies/{name}")
async def policy(
    request: Request,
    name: str,
    user: Annotated[WebUser, Depends(signed_in())],
    due: str | None = None,
    country: str = "CL",
    debt: str = "business",
) -> Response:
    lang = request_language(request)
    try:
        chosen = get_policy(name)
    except UnknownPolicy:
        return render(
            request,
            "error.html",
            {"title": translate(lang, "error.not_found.title"), "message": name},
            status_code=404,
        )
    error: str | None = None
    due_on = datetime.now(UTC).date() + timedelta(days=14)
    if due:
        try:
            due_on = date.fromisoformat(due)
        except ValueError:
            error = translate(lang, "policies.bad_date", value=due)
    country = country.upper() if country.upper() in COUNTRY_DEFAULTS else "CL"
    debt_type = DebtType.CONSUMER if debt == "consumer" else DebtType.BUSINESS
    defaults = defaults_for_country(country)
    steps: list[PlannedStep] = []
    if error is None:
        steps = plan(
            chosen,
            preview_state(
                due_on,
                timezone=defaults.timezone,
                country=country,
                locale=defaults.locale,
                currency=defaults.currency,
                debt_type=debt_type,
            ),
        )
    marks, first, last = timeline_marks(chosen)
    values: dict[str, Any] = {
        "section": "policies",
        "policy": chosen,
        "marks": marks,
        "first_day": first,
        "last_day": last,
        "axis": {"left": AXIS_LEFT, "right": AXIS_RIGHT, "y": AXIS_Y},
        "zero_x": next((m.x for m in marks if m.day == 0), None)
        or AXIS_LEFT + (0 - first) * (AXIS_RIGHT - AXIS_LEFT) / max(last - first, 1),
        "due_on": due_on,
        "country": country,
        "countries": sorted(COUNTRY_DEFAULTS),
        "debt": debt_type.value,
        "steps": steps,
        "zone": defaults.timezone,
        "error": error,
    }
    return render(request, "policies/policy.html", values)
