"""The portal pages' words: what a debtor reads on a phone, so short and plain."""

MESSAGES: dict[str, dict[str, str]] = {
    "portal.title": {"es": "Estado de cuenta", "en": "Account statement"},
    "portal.greeting": {"es": "Hola, {name}", "en": "Hello, {name}"},
    "portal.intro": {
        "es": "Estas son tus facturas pendientes con {company}.",
        "en": "These are your open invoices with {company}.",
    },
    "portal.highlight": {
        "es": "Nuestro mensaje era sobre la factura {number}.",
        "en": "Our message was about invoice {number}.",
    },
    "portal.highlight_closed": {
        "es": "La factura {number} ya no tiene saldo pendiente.",
        "en": "Invoice {number} has nothing left to pay.",
    },
    "portal.nothing_due": {
        "es": "No tienes facturas pendientes. ¡Gracias!",
        "en": "You have no open invoices. Thank you!",
    },
    "portal.total_due": {"es": "Total pendiente", "en": "Total due"},
    "portal.pay_all": {"es": "Pagar todo: {amount}", "en": "Pay everything: {amount}"},
    "portal.invoices": {"es": "Facturas pendientes", "en": "Open invoices"},
    "portal.col.invoice": {"es": "Factura", "en": "Invoice"},
    "portal.col.due_on": {"es": "Vence", "en": "Due"},
    "portal.col.overdue": {"es": "Atraso", "en": "Overdue"},
    "portal.col.amount_due": {"es": "Por pagar", "en": "Amount due"},
    "portal.col.status": {"es": "Estado", "en": "Status"},
    "portal.col.paid_on": {"es": "Fecha", "en": "Date"},
    "portal.col.reference": {"es": "Referencia", "en": "Reference"},
    "portal.col.amount": {"es": "Monto", "en": "Amount"},
    "portal.select_prefix": {"es": "Pagar la factura", "en": "Pay invoice"},
    "portal.days_overdue": {"es": "{days} días", "en": "{days} days"},
    "portal.not_overdue": {"es": "Sin atraso", "en": "Not overdue"},
    "portal.this_invoice": {"es": "(la del mensaje)", "en": "(from your message)"},
    "portal.pay_selected": {"es": "Pagar las seleccionadas", "en": "Pay the selected ones"},
    "portal.tell_us": {"es": "¿Algo que contarnos?", "en": "Something to tell us?"},
    "portal.paid.summary": {"es": "Ya pagué", "en": "I already paid"},
    "portal.paid.help": {
        "es": "Indícanos los datos de tu pago. No te enviaremos recordatorios mientras lo "
        "confirmamos.",
        "en": "Tell us about your payment. We will not remind you while we confirm it.",
    },
    "portal.paid.submit": {"es": "Avisar que pagué", "en": "Tell you I paid"},
    "portal.promise.summary": {
        "es": "Prometer pago para una fecha",
        "en": "Promise to pay by a date",
    },
    "portal.promise.help": {
        "es": "Elige el día en que pagarás. Hasta entonces no te enviaremos recordatorios de esa "
        "factura.",
        "en": "Choose the day you will pay. Until then we will not remind you about that invoice.",
    },
    "portal.promise.submit": {"es": "Confirmar promesa", "en": "Confirm promise"},
    "portal.dispute.summary": {"es": "Reclamar una factura", "en": "Dispute an invoice"},
    "portal.dispute.help": {
        "es": "Cuéntanos qué pasa. Pausaremos los recordatorios de esa factura mientras lo "
        "revisamos.",
        "en": "Tell us what is wrong. We pause reminders for that invoice while we look into it.",
    },
    "portal.dispute.submit": {"es": "Enviar reclamo", "en": "Send dispute"},
    "portal.field.invoice": {"es": "Factura", "en": "Invoice"},
    "portal.field.reference": {
        "es": "Referencia o número de operación",
        "en": "Payment reference or transaction number",
    },
    "portal.field.paid_on": {"es": "Fecha de pago", "en": "Date paid"},
    "portal.field.amount_optional": {
        "es": "Monto (opcional; si lo dejas vacío, todo lo pendiente)",
        "en": "Amount (optional; leave it empty for all that is due)",
    },
    "portal.field.promised_date": {"es": "Pagaré a más tardar el", "en": "I will pay by"},
    "portal.field.code": {"es": "Motivo", "en": "Reason"},
    "portal.field.reason": {"es": "Detalle", "en": "Details"},
    "portal.dispute_code.not_received": {
        "es": "No recibí el producto o servicio",
        "en": "I did not receive the goods or service",
    },
    "portal.dispute_code.wrong_amount": {"es": "El monto está mal", "en": "The amount is wrong"},
    "portal.dispute_code.quality": {
        "es": "Problema de calidad",
        "en": "A problem with the quality",
    },
    "portal.dispute_code.already_paid": {"es": "Ya está pagada", "en": "It is already paid"},
    "portal.dispute_code.other": {"es": "Otro motivo", "en": "Something else"},
    "portal.payments": {"es": "Pagos recientes", "en": "Recent payments"},
    "portal.done.promise": {
        "es": "Gracias. No te enviaremos recordatorios de la factura {number} hasta el {day}.",
        "en": "Thank you. We will not remind you about invoice {number} until {day}.",
    },
    "portal.done.dispute": {
        "es": "Recibimos tu reclamo sobre la factura {number}. Pausamos sus recordatorios "
        "mientras lo revisamos y te responderemos.",
        "en": "We have your dispute about invoice {number}. Its reminders are paused while we "
        "look into it, and we will get back to you.",
    },
    "portal.done.paid": {
        "es": "Gracias. Buscaremos tu pago (referencia {reference}) en los próximos días y no "
        "te enviaremos recordatorios mientras tanto.",
        "en": "Thank you. We will look for your payment (reference {reference}) over the next "
        "few days and will not remind you meanwhile.",
    },
    "portal.refused.dates": {
        "es": "Elige una fecha entre el {first} y el {last}.",
        "en": "Choose a date between {first} and {last}.",
    },
    "portal.refused.amount": {
        "es": "El monto debe ser mayor que cero y no superar lo pendiente.",
        "en": "The amount must be more than zero and no more than what is due.",
    },
    "portal.refused.disputed": {
        "es": "Esta factura tiene un reclamo abierto; te contactaremos cuando lo resolvamos.",
        "en": "This invoice has an open dispute; we will contact you once it is resolved.",
    },
    "portal.refused.already_disputed": {
        "es": "Ya recibimos un reclamo sobre esta factura y lo estamos revisando.",
        "en": "We already have a dispute about this invoice and are looking into it.",
    },
    "portal.refused.already_claimed": {
        "es": "Ya nos avisaste de un pago de esta factura; lo estamos buscando.",
        "en": "You have already told us about a payment for this invoice; we are looking for it.",
    },
    "portal.refused.plan": {
        "es": "Esta factura tiene un convenio de pago: cada cuota se registra cuando llega "
        "el pago.",
        "en": "This invoice is on a payment plan: each instalment is recorded when its payment "
        "arrives.",
    },
    "portal.refused.future": {
        "es": "La fecha de pago no puede ser posterior a hoy.",
        "en": "The payment date cannot be later than today.",
    },
    "portal.refused.closed": {
        "es": "La factura {number} ya no tiene saldo pendiente.",
        "en": "Invoice {number} has nothing left to pay.",
    },
    "portal.refused.other": {
        "es": "No pudimos registrar tu solicitud. Revisa los datos e inténtalo de nuevo.",
        "en": "We could not record your request. Please check the details and try again.",
    },
    "portal.unavailable": {
        "es": "No pudimos registrar tu solicitud en este momento. Inténtalo de nuevo en unos "
        "minutos.",
        "en": "We could not record your request just now. Please try again in a few minutes.",
    },
    "portal.invalid.date": {"es": "Escribe una fecha válida.", "en": "Enter a valid date."},
    "portal.invalid.amount": {
        "es": "Escribe un monto válido, por ejemplo 125000.",
        "en": "Enter a valid amount, for example 125000.",
    },
    "portal.invalid.reference": {
        "es": "Escribe la referencia de tu pago.",
        "en": "Enter your payment's reference.",
    },
    "portal.invalid.reason": {
        "es": "Elige un motivo de la lista.",
        "en": "Choose a reason from the list.",
    },
    "portal.invalid.choose": {
        "es": "Elige al menos una factura.",
        "en": "Choose at least one invoice.",
    },
    "portal.invalid.currency": {
        "es": "Paga las facturas de una moneda a la vez.",
        "en": "Pay the invoices of one currency at a time.",
    },
    "portal.pay.failed": {
        "es": "No pudimos abrir el pago en línea en este momento. Inténtalo de nuevo o "
        "escríbenos a {email}.",
        "en": "We could not open the online payment just now. Try again, or write to us at "
        "{email}.",
    },
    "portal.bank.title": {"es": "Pagar por transferencia", "en": "Pay by bank transfer"},
    "portal.bank.intro": {
        "es": "Transfiere exactamente este monto a la cuenta de {company}:",
        "en": "Transfer exactly this amount to {company}'s account:",
    },
    "portal.bank.amount": {"es": "Monto exacto", "en": "Exact amount"},
    "portal.bank.bank": {"es": "Banco", "en": "Bank"},
    "portal.bank.holder": {"es": "Titular", "en": "Account holder"},
    "portal.bank.tax_id": {"es": "RUT / RFC del titular", "en": "Holder's tax ID"},
    "portal.bank.type": {"es": "Tipo de cuenta", "en": "Account type"},
    "portal.bank.number": {"es": "Número de cuenta", "en": "Account number"},
    "portal.bank.reference": {
        "es": "Mensaje de la transferencia (escríbelo tal cual)",
        "en": "Transfer message (write it exactly)",
    },
    "portal.bank.invoices": {"es": "Facturas que pagas", "en": "Invoices you are paying"},
    "portal.bank.receipt": {
        "es": "Envía el comprobante a {email}. Cuando llegue el pago, tu estado de cuenta se "
        "actualizará solo.",
        "en": "Send the receipt to {email}. Once the payment arrives, your statement updates "
        "by itself.",
    },
    "portal.back": {"es": "Volver a mi estado de cuenta", "en": "Back to my statement"},
    "portal.contact": {"es": "¿Dudas? Escríbenos a {email}.", "en": "Questions? Write to {email}."},
    "portal.expired.title": {"es": "Este enlace venció", "en": "This link has expired"},
    "portal.expired.body": {
        "es": "Por seguridad, los enlaces duran {days} días. Pide uno nuevo respondiendo a "
        "nuestro último mensaje o escribiendo a {email}.",
        "en": "For your security, links last {days} days. Ask for a new one by replying to our "
        "last message or writing to {email}.",
    },
    "portal.invalid_link.title": {"es": "Enlace no válido", "en": "Link not valid"},
    "portal.invalid_link.body": {
        "es": "No reconocemos este enlace. Revisa que esté completo o escríbenos a {email}.",
        "en": "We do not recognise this link. Check that it is complete, or write to us at "
        "{email}.",
    },
    "portal.not_found.body": {
        "es": "Esa factura no está en tu estado de cuenta.",
        "en": "That invoice is not on your statement.",
    },
    # What the debtor reads of an invoice's stage: their situation, not our process.
    "portal.stage.overdue": {"es": "Vencida", "en": "Overdue"},
    "portal.stage.negotiation": {"es": "Vencida", "en": "Overdue"},
    "portal.stage.handoff": {
        "es": "Vencida, en cobranza externa",
        "en": "Overdue, with our agency",
    },
    "portal.stage.payment_plan": {"es": "En convenio de pago", "en": "On a payment plan"},
    "portal.stage.disputed": {
        "es": "En revisión por tu reclamo",
        "en": "Under review (your claim)",
    },
}
