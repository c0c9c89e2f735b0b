"""Standard: most customers. A friendly heads-up before the due date, a notice on the day,
escalation across WhatsApp and SMS, a collector's call at 15 days and the agency at 20."""

from dunning_policies.language import Channel, Handoff, Negotiate, Policy, Remind, Tone

EMAIL, SMS, WHATSAPP = Channel.EMAIL, Channel.SMS, Channel.WHATSAPP

POLICY = Policy(
    name="standard",
    version=1,
    description="Most customers: remind before due, escalate after, call at 15 days, agency at 20.",
    steps=(
        Remind(id="preventive", offset_days=-3, channels=(EMAIL, WHATSAPP),
               template="before_due", tone=Tone.FRIENDLY),
        Remind(id="due_day", offset_days=0, channels=(EMAIL, SMS),
               template="due_today", tone=Tone.NEUTRAL),
        Remind(id="overdue_3", offset_days=3, channels=(WHATSAPP, SMS, EMAIL),
               template="overdue", tone=Tone.NEUTRAL),
        Remind(id="overdue_10", offset_days=10, channels=(SMS, WHATSAPP, EMAIL),
               template="overdue", tone=Tone.FIRM),
        Negotiate(id="collector_call", offset_days=15, queue="standard", sla_days=5),
        Remind(id="final_notice", offset_days=18, channels=(EMAIL, WHATSAPP),
               template="final_notice", tone=Tone.FINAL),
        Handoff(id="agency", agency="Agencia de Cobranza Extrajudicial"),
    ),
    broken_promise_notice=Remind(id="promise_broken", offset_days=0,
                                 channels=(WHATSAPP, SMS, EMAIL),
                                 template="promise_broken", tone=Tone.FIRM),
)  # fmt: skip
