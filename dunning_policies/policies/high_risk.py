"""High risk: repeat late payers. Firm and early: a week's notice before the due date on the
phone, daily-feeling pressure after it, a collector at 7 days and the agency at 10."""

from dunning_policies.language import Channel, Handoff, Negotiate, Policy, Remind, Tone

EMAIL, SMS, WHATSAPP = Channel.EMAIL, Channel.SMS, Channel.WHATSAPP

POLICY = Policy(
    name="high_risk",
    version=1,
    description="Repeat late payers: early and firm, a collector at 7 days, agency at 10.",
    promise_grace_days=0,
    payment_claim_days=2,
    steps=(
        Remind(id="preventive_7", offset_days=-7, channels=(WHATSAPP, SMS, EMAIL),
               template="before_due", tone=Tone.NEUTRAL),
        Remind(id="preventive_2", offset_days=-2, channels=(SMS, WHATSAPP, EMAIL),
               template="before_due", tone=Tone.FIRM),
        Remind(id="due_day", offset_days=0, channels=(WHATSAPP, SMS, EMAIL),
               template="due_today", tone=Tone.FIRM),
        Remind(id="overdue_1", offset_days=1, channels=(SMS, WHATSAPP, EMAIL),
               template="overdue", tone=Tone.FIRM),
        Remind(id="overdue_4", offset_days=4, channels=(WHATSAPP, EMAIL, SMS),
               template="overdue", tone=Tone.FIRM),
        Negotiate(id="collector_call", offset_days=7, queue="high_risk", sla_days=3,
                  max_attempts=2),
        Remind(id="final_notice", offset_days=9, channels=(EMAIL, SMS),
               template="final_notice", tone=Tone.FINAL),
        Handoff(id="agency", agency="Agencia de Cobranza Extrajudicial"),
    ),
    broken_promise_notice=Remind(id="promise_broken", offset_days=0,
                                 channels=(SMS, WHATSAPP, EMAIL),
                                 template="promise_broken", tone=Tone.FINAL),
)  # fmt: skip
