"""The collectors' inbox."""

MESSAGES: dict[str, dict[str, str]] = {
    "inbox.title": {"es": "Bandeja de tareas", "en": "Task inbox"},
    "inbox.summary": {
        "es": "{total} tareas abiertas · {past_sla} fuera de plazo",
        "en": "{total} open tasks · {past_sla} past SLA",
    },
    "inbox.open_top": {"es": "Abrir la más urgente", "en": "Open the most urgent"},
    "inbox.done": {"es": "Listo.", "en": "Done."},
    "inbox.filters": {"es": "Filtros", "en": "Filters"},
    "inbox.queue": {"es": "Cola", "en": "Queue"},
    "inbox.segment": {"es": "Segmento", "en": "Segment"},
    "inbox.owner": {"es": "Responsable", "en": "Owner"},
    "inbox.all": {"es": "Todas", "en": "All"},
    "inbox.everyone": {"es": "Todos", "en": "Everyone"},
    "inbox.mine": {"es": "Mis tareas", "en": "My tasks"},
    "inbox.unassigned": {"es": "Sin asignar", "en": "Unassigned"},
    "inbox.show_snoozed": {"es": "Incluir pospuestas", "en": "Include snoozed"},
    "inbox.apply": {"es": "Filtrar", "en": "Filter"},
    "inbox.caption": {
        "es": "Tareas abiertas, de la más a la menos urgente",
        "en": "Open tasks, most urgent first",
    },
    "inbox.customer": {"es": "Cliente", "en": "Customer"},
    "inbox.invoice": {"es": "Factura", "en": "Invoice"},
    "inbox.amount_due": {"es": "Saldo", "en": "Amount due"},
    "inbox.days_past_due": {"es": "Días de mora", "en": "Days past due"},
    "inbox.risk": {"es": "Riesgo", "en": "Risk"},
    "inbox.risk_high": {"es": "Alto", "en": "High"},
    "inbox.risk_raised": {"es": "Elevado", "en": "Raised"},
    "inbox.risk_normal": {"es": "Normal", "en": "Normal"},
    "inbox.broken_promises": {
        "es": "{count} promesa(s) incumplida(s)",
        "en": "{count} broken promise(s)",
    },
    "inbox.sla": {"es": "Plazo (SLA)", "en": "SLA"},
    "inbox.sla_left": {"es": "vence {when}", "en": "due {when}"},
    "inbox.sla_late": {"es": "venció {when}", "en": "overdue, {when}"},
    "inbox.snoozed_until": {"es": "pospuesta hasta {when}", "en": "snoozed until {when}"},
    "inbox.claim": {"es": "Tomar", "en": "Claim"},
    "inbox.claim_task": {"es": "Tomar la tarea de {invoice}", "en": "Claim the task of {invoice}"},
    "inbox.assign": {"es": "Asignar", "en": "Assign"},
    "inbox.assign_to": {
        "es": "Asignar la tarea de {invoice} a",
        "en": "Assign the task of {invoice} to",
    },
    "inbox.pages": {"es": "Páginas", "en": "Pages"},
    "inbox.previous": {"es": "Anterior", "en": "Previous"},
    "inbox.next": {"es": "Siguiente", "en": "Next"},
    "inbox.page_of": {"es": "Página {page} de {pages}", "en": "Page {page} of {pages}"},
    "inbox.priority_explained": {
        "es": "Orden: saldo × días de mora × riesgo (×2 segmento de alto riesgo; +0,5 por "
        "promesa incumplida en el último año).",
        "en": "Order: amount due × days past due × risk (×2 for the high-risk segment; +0.5 "
        "for each promise broken in the last year).",
    },
    "inbox.empty": {
        "es": "No hay tareas abiertas con estos filtros.",
        "en": "No open tasks match these filters.",
    },
    "inbox.refused": {"es": "No se pudo", "en": "Not done"},
}
