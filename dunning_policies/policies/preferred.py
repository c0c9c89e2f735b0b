"""Preferred: long-standing customers who pay, if late, on their own. Gentle and patient:
email first, a personal call from the key-account desk after a month, the agency only at 50."""

from dunning_policies.language import Channel, Handoff, Negotiate, Policy, Remind, Tone

EMAIL, SMS, WHATSAPP = Channel.EMAIL, Channel.SMS, Channel.WHATSAPP

POLICY = Policy(
    name="preferred",
    version=1,
    description="Good payers: email first, friendly tone, a personal call at 30 days.",
    promise_grace_days=3,
    steps=(
        Remind(id="preventive", offset_days=-5, channels=(EMAIL,),
               template="before_due", tone=Tone.FRIENDLY),
        Remind(id="due_day", offset_days=0, channels=(EMAIL,),
               template="due_today", tone=Tone.FRIENDLY),
        Remind(id="overdue_7", offset_days=7, channels=(EMAIL, WHATSAPP),
               template="overdue", tone=Tone.FRIENDLY),
        Remind(id="overdue_20", offset_days=20, channels=(EMAIL, WHATSAPP),
               template="overdue", tone=Tone.NEUTRAL),
        Negotiate(id="account_manager_call", offset_days=30, queue="key_accounts",
                  sla_days=10),
        Remind(id="final_notice", offset_days=37, channels=(EMAIL,),
               template="final_notice", tone=Tone.FIRM),
        Handoff(id="agency", agency="Agencia de Cobranza Extrajudicial"),
    ),
    broken_promise_notice=Remind(id="promise_broken", offset_days=0, channels=(EMAIL, WHATSAPP),
                                 template="promise_broken", tone=Tone.NEUTRAL),
)  # fmt: skip
