"""Contact rules by jurisdiction: when, how often and through what a debtor may be contacted.

Each pack is data — a ``ContactRules`` value — chosen by the customer's country and whether the
debt is a consumer's or a business's. Every rule names its legal source, in a comment and in the
``source`` text the timeline quotes when a rule moves a contact. A policy may add rules of its own
(``Policy.window``, ``Policy.contact_limits``, ``Policy.min_gap_hours``); ``effective_rules``
combines them with the law by taking the stricter of each, so a policy can never loosen the law.
"""

from __future__ import annotations

import re
from datetime import date, time
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from dunning_policies.holiday_calendar import public_holidays
from dunning_policies.language import Channel, ContactLimit, ContactWindow, Policy

ALL_WEEK = frozenset(range(7))
MONDAY_TO_SATURDAY = frozenset(range(6))
MONDAY_TO_FRIDAY = frozenset(range(5))


class DebtType(StrEnum):
    CONSUMER = "consumer"
    BUSINESS = "business"


class ContactRules(BaseModel):
    """The rules one customer's contacts follow. Frozen into the workflow at issuance, holiday
    dates included, so a replay decides exactly as the first run did."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    country: str | None = None
    subdivision: str | None = None
    debt_type: DebtType
    window: ContactWindow
    window_source: str
    avoid_holidays: bool = True
    holidays_source: str = "product default: no collection contact on public holidays"
    holidays: dict[date, str] = Field(default_factory=dict)
    """Public holidays (date → name) of the customer's country and subdivision."""
    limits: tuple[ContactLimit, ...] = ()
    min_gap_hours: int = Field(default=0, ge=0)
    """Between two written contacts (email, SMS, WhatsApp, letter)."""
    min_gap_source: str = ""
    call_pause_after_conversation_days: int = Field(default=0, ge=0)
    """No call about a debt for this many days after a conversation about it."""
    call_pause_source: str = ""
    opt_out_notice: frozenset[Channel] = frozenset()
    """Channels whose every message must say how to stop receiving them."""
    opt_out_notice_source: str = ""
    record_retention_years: int = Field(ge=1)
    record_retention_source: str

    def with_holidays(self, days: dict[date, str], subdivision: str | None) -> ContactRules:
        return self.model_copy(update={"holidays": days, "subdivision": subdivision})


CHILE_CONSUMER = ContactRules(
    name="Chile, consumer debt",
    country="CL",
    debt_type=DebtType.CONSUMER,
    # Ley 19.496 art. 37 inc. 4, as amended by Ley 21.320 (2021): contact only Monday to
    # Saturday, 08:00–20:00, never on holidays.
    window=ContactWindow(start=time(8, 0), end=time(20, 0), weekdays=MONDAY_TO_SATURDAY),
    window_source="Ley 19.496 art. 37 (Ley 21.320): Monday–Saturday 08:00–20:00",
    holidays_source="Ley 19.496 art. 37 (Ley 21.320): never on holidays",
    limits=(
        # Ley 19.496 art. 37 (Ley 21.320): at most one call or visit a week ...
        ContactLimit(
            contact_class="call",
            max_contacts=1,
            period_days=7,
            source="Ley 19.496 art. 37 (Ley 21.320): at most 1 call or visit a week",
        ),
        # ... and at most two contacts a week by any other means (email, SMS, WhatsApp, letter).
        ContactLimit(
            contact_class="written",
            max_contacts=2,
            period_days=7,
            source="Ley 19.496 art. 37 (Ley 21.320): at most 2 other contacts a week",
        ),
    ),
    # Ley 19.496 art. 37 (Ley 21.320): "debiendo mediar a lo menos dos días entre cada
    # comunicación" — two days between contacts.
    min_gap_hours=48,
    min_gap_source="Ley 19.496 art. 37 (Ley 21.320): at least 2 days between contacts",
    # Ley 19.496 art. 37 (Ley 21.320): the creditor keeps a record of its collection
    # contacts for at least two years.
    record_retention_years=2,
    record_retention_source="Ley 19.496 art. 37 (Ley 21.320): records kept 2 years",
)

MEXICO = ContactRules(
    name="Mexico",
    country="MX",
    debt_type=DebtType.CONSUMER,
    # CONDUSEF, Disposiciones de carácter general aplicables a las entidades financieras en
    # materia de despachos de cobranza (DOF 07-10-2014), art. 8 fr. V: contact only between
    # 07:00 and 22:00 in the debtor's time zone.
    window=ContactWindow(start=time(7, 0), end=time(22, 0), weekdays=ALL_WEEK),
    window_source="CONDUSEF, despachos de cobranza (DOF 07-10-2014): 07:00–22:00 local",
    # Código de Comercio art. 38: commercial records are kept for ten years.
    record_retention_years=10,
    record_retention_source="Código de Comercio art. 38: records kept 10 years",
)

UNITED_STATES_CONSUMER = ContactRules(
    name="United States, consumer debt",
    country="US",
    debt_type=DebtType.CONSUMER,
    # 12 CFR 1006.6(b)(1)(i): no communication before 08:00 or after 21:00 local time.
    window=ContactWindow(start=time(8, 0), end=time(21, 0), weekdays=ALL_WEEK),
    window_source="Regulation F, 12 CFR 1006.6(b)(1)(i): 08:00–21:00 local",
    limits=(
        # 12 CFR 1006.14(b)(2)(i)(A): more than seven call attempts within seven consecutive
        # days about a debt is presumed harassment.
        ContactLimit(
            contact_class="call",
            max_contacts=7,
            period_days=7,
            per_debt=True,
            source="Regulation F, 12 CFR 1006.14(b)(2)(i)(A): at most 7 calls in 7 days per debt",
        ),
    ),
    # 12 CFR 1006.14(b)(2)(i)(B): no call within seven days after a telephone conversation
    # about the debt.
    call_pause_after_conversation_days=7,
    call_pause_source=(
        "Regulation F, 12 CFR 1006.14(b)(2)(i)(B): no call within 7 days after a conversation"
    ),
    # 12 CFR 1006.6(e): every electronic communication carries a clear way to opt out;
    # 12 CFR 1006.14(h): a request not to use a medium is honoured (our opt-outs, per channel).
    opt_out_notice=frozenset({Channel.EMAIL, Channel.SMS}),
    opt_out_notice_source="Regulation F, 12 CFR 1006.6(e): an opt-out in every email and SMS",
    # 12 CFR 1006.100: records kept three years after the last collection activity.
    record_retention_years=3,
    record_retention_source="Regulation F, 12 CFR 1006.100: records kept 3 years",
)

BUSINESS_DEFAULT = ContactRules(
    name="Business debt",
    debt_type=DebtType.BUSINESS,
    # Product default: consumer-protection laws do not cover debts between businesses; office
    # hours on working days. A policy narrows this with its own window.
    window=ContactWindow(start=time(8, 0), end=time(20, 0), weekdays=MONDAY_TO_SATURDAY),
    window_source="business default: Monday–Saturday 08:00–20:00",
    record_retention_years=5,
    record_retention_source="product default: records kept 5 years",
)

CONSUMER_DEFAULT = ContactRules(
    name="Consumer debt (no rule pack for the country: the strictest rules we ship)",
    debt_type=DebtType.CONSUMER,
    window=ContactWindow(start=time(8, 0), end=time(20, 0), weekdays=MONDAY_TO_SATURDAY),
    window_source="consumer default: Monday–Saturday 08:00–20:00",
    limits=CHILE_CONSUMER.limits,
    min_gap_hours=48,
    min_gap_source="consumer default: at least 2 days between contacts",
    call_pause_after_conversation_days=7,
    call_pause_source="consumer default: no call within 7 days after a conversation",
    opt_out_notice=frozenset({Channel.EMAIL, Channel.SMS}),
    opt_out_notice_source="consumer default: an opt-out in every email and SMS",
    record_retention_years=3,
    record_retention_source="consumer default: records kept 3 years",
)

_PACKS: dict[tuple[str, DebtType], ContactRules] = {
    ("CL", DebtType.CONSUMER): CHILE_CONSUMER,
    ("MX", DebtType.CONSUMER): MEXICO,
    # CONDUSEF's rules bind the collection of a financial entity's credits, whoever the debtor.
    ("MX", DebtType.BUSINESS): MEXICO.model_copy(
        update={"name": "Mexico, business debt", "debt_type": DebtType.BUSINESS}
    ),
    ("US", DebtType.CONSUMER): UNITED_STATES_CONSUMER,
}


def rule_pack(country: str, debt_type: DebtType) -> ContactRules:
    """The law's pack for a country and debt type, or the default for that debt type."""
    pack = _PACKS.get((country.upper(), debt_type))
    if pack is not None:
        return pack
    default = BUSINESS_DEFAULT if debt_type is DebtType.BUSINESS else CONSUMER_DEFAULT
    return default.model_copy(update={"country": country.upper()})


def rules_for_customer(
    country: str, debt_type: DebtType, subdivision: str | None, around: date
) -> ContactRules:
    """The law's pack for one customer, with the public holidays of its country (and
    subdivision) in the years around ``around`` (the due date) written into it: the snapshot an
    invoice's workflow keeps for its whole life."""
    days = public_holidays(country, subdivision, around)
    return rule_pack(country, debt_type).with_holidays(days, subdivision)


_TAX_ID_SEPARATORS = re.compile(r"[\s.\-/]+")
_RUT = re.compile(r"(\d{7,8})[\dK]")
_RFC = re.compile(r"[A-ZÑ&]{3,4}\d{6}[A-Z\d]{3}")
# The SII numbers companies from 50.000.000 up; people's RUTs (run) are below it.
FIRST_COMPANY_RUT = 50_000_000


def infer_debt_type(country: str, tax_id: str | None) -> DebtType | None:
    """What a tax id says about its holder, where it says it: a Chilean RUT of 50.000.000 or
    more is a company's; a Mexican RFC of 12 characters is a persona moral's, of 13 a persona
    física's. ``None`` elsewhere, or when the id has not the shape of either."""
    if not tax_id:
        return None
    compact = _TAX_ID_SEPARATORS.sub("", tax_id).upper()
    match country.strip().upper():
        case "CL":
            rut = _RUT.fullmatch(compact.removeprefix("CL"))
            if rut is None:
                return None
            return DebtType.BUSINESS if int(rut[1]) >= FIRST_COMPANY_RUT else DebtType.CONSUMER
        case "MX":
            if _RFC.fullmatch(compact) is None:
                return None
            return DebtType.BUSINESS if len(compact) == 12 else DebtType.CONSUMER
    return None


def debt_type_of(country: str, declared: DebtType | None, tax_id: str | None) -> DebtType:
    """The ERP's word first, then the tax id's, else consumer: the stricter rules, so nobody is
    contacted outside the law by omission."""
    return declared or infer_debt_type(country, tax_id) or DebtType.CONSUMER


def _intersect(law: ContactWindow, policy: ContactWindow) -> ContactWindow:
    return ContactWindow(
        start=max(law.start, policy.start),
        end=min(law.end, policy.end),
        weekdays=law.weekdays & policy.weekdays,
    )


_COMBINED: dict[tuple[int, int], tuple[ContactRules, Policy, ContactRules]] = {}
_COMBINED_KEPT = 256


def effective_rules(law: ContactRules, policy: Policy) -> ContactRules:
    """The law's rules and the policy's own, the stricter of each: a policy only narrows.

    Remembered for the same two objects (an invoice's rules and policy are asked about at every
    step; the simulator asks hundreds of thousands of times). The entry keeps both objects, so
    an id is never reused while its entry lives; the answer depends on nothing else."""
    key = (id(law), id(policy))
    kept = _COMBINED.get(key)
    if kept is not None and kept[0] is law and kept[1] is policy:
        return kept[2]
    combined = _combine(law, policy)
    if len(_COMBINED) >= _COMBINED_KEPT:
        _COMBINED.clear()
    _COMBINED[key] = (law, policy, combined)
    return combined


def _combine(law: ContactRules, policy: Policy) -> ContactRules:
    window = _intersect(law.window, policy.window)
    window_source = law.window_source
    if window.start >= window.end or not window.weekdays:
        # The policy's hours never meet the law's here (a policy written for another country):
        # rather than never contact the debtor, contact them when the law allows.
        window = law.window
        window_source = (
            f"{law.window_source} (policy {policy.name}'s own window never meets it here)"
        )
    elif window != law.window:
        window_source = (
            f"policy {policy.name}: {_describe_window(window)} (law: {law.window_source})"
        )
    gap, gap_source = law.min_gap_hours, law.min_gap_source
    if policy.min_gap_hours is not None and policy.min_gap_hours > gap:
        gap = policy.min_gap_hours
        gap_source = f"policy {policy.name}: at least {gap} hours between contacts"
    return law.model_copy(
        update={
            "window": window,
            "window_source": window_source,
            "limits": (*law.limits, *policy.contact_limits),
            "min_gap_hours": gap,
            "min_gap_source": gap_source,
        }
    )


_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _describe_window(window: ContactWindow) -> str:
    days = sorted(window.weekdays)
    if days and days == list(range(days[0], days[-1] + 1)):
        span = (
            _DAY_NAMES[days[0]]
            if len(days) == 1
            else f"{_DAY_NAMES[days[0]]}–{_DAY_NAMES[days[-1]]}"
        )
    else:
        span = ", ".join(_DAY_NAMES[d] for d in days)
    return f"{span} {window.start:%H:%M}–{window.end:%H:%M}"


def looser_than_law(policy: Policy) -> list[str]:
    """Where a policy's own rules ask for more than some pack allows; the law wins anyway, but
    an operator who wrote 07:00 for Chile should hear that it will not happen."""
    notes: list[str] = []
    for pack in (CHILE_CONSUMER, MEXICO, UNITED_STATES_CONSUMER):
        if policy.window.start < pack.window.start or policy.window.end > pack.window.end:
            notes.append(
                f"window {policy.window.start:%H:%M}–{policy.window.end:%H:%M} is wider than "
                f"{pack.name} allows ({pack.window_source}); the law's hours apply there"
            )
    return notes
