"""The dashboard pages' words: the KPI cards and their formulas, the charts, the drill-down."""

MESSAGES: dict[str, dict[str, str]] = {
    "dashboard.title": {"es": "Panel de cobranza", "en": "Collections dashboard"},
    "dashboard.summary": {
        "es": "{currency} · al {as_of} · período de {days} días ({start} – {as_of})",
        "en": "{currency} · as of {as_of} · {days}-day period ({start} – {as_of})",
    },
    "dashboard.filters": {"es": "Elegir el panel", "en": "Choose the dashboard"},
    "dashboard.currency": {"es": "Moneda", "en": "Currency"},
    "dashboard.as_of": {"es": "Fecha de corte", "en": "As of"},
    "dashboard.period": {"es": "Período", "en": "Period"},
    "dashboard.period_days": {"es": "{days} días", "en": "{days} days"},
    "dashboard.apply": {"es": "Ver", "en": "Show"},
    "dashboard.bad_day": {
        "es": "«{value}» no es una fecha válida (AAAA-MM-DD): se muestra el panel de hoy.",
        "en": "“{value}” is not a valid date (YYYY-MM-DD): showing today's dashboard.",
    },
    "dashboard.no_data": {"es": "sin datos", "en": "no data"},
    "dashboard.unit.days": {"es": "{value} días", "en": "{value} days"},
    "dashboard.unit.percent": {"es": "{value} %", "en": "{value}%"},
    "dashboard.kpis": {"es": "Indicadores", "en": "Key figures"},
    "dashboard.kpi.total_ar": {"es": "Cartera por cobrar", "en": "Accounts receivable"},
    "dashboard.kpi.total_ar.formula": {
        "es": "Saldo pendiente de {count} facturas abiertas al cierre del día.",
        "en": "Amount still due on {count} open invoices at the end of the day.",
    },
    "dashboard.kpi.current_ar": {"es": "No vencida", "en": "Not yet due"},
    "dashboard.kpi.dso": {
        "es": "DSO (días de venta por cobrar)",
        "en": "DSO (days sales outstanding)",
    },
    "dashboard.kpi.dso.formula": {
        "es": "Cartera ÷ ventas a crédito de los últimos {days} días × {days}.",
        "en": "Receivables ÷ credit sales of the last {days} days × {days}.",
    },
    "dashboard.kpi.credit_sales": {
        "es": "Ventas a crédito ({days} días)",
        "en": "Credit sales ({days} days)",
    },
    "dashboard.kpi.bpdso": {"es": "DSO óptimo", "en": "Best possible DSO"},
    "dashboard.kpi.bpdso.formula": {
        "es": "Cartera no vencida ÷ ventas a crédito × {days}: el DSO si todos pagaran a tiempo.",
        "en": "Not-yet-due receivables ÷ credit sales × {days}: the DSO if everyone paid on time.",
    },
    "dashboard.kpi.add": {"es": "Días promedio de atraso", "en": "Average days delinquent"},
    "dashboard.kpi.add.formula": {
        "es": "DSO − DSO óptimo: cuántos días más tarda el cobro por los atrasos.",
        "en": "DSO − best possible DSO: the days that late payment adds.",
    },
    "dashboard.kpi.cei": {
        "es": "Efectividad de cobranza (CEI)",
        "en": "Collection effectiveness (CEI)",
    },
    "dashboard.kpi.cei.formula": {
        "es": "(saldo inicial + ventas − cartera final) ÷ (saldo inicial + ventas − cartera "
        "final no vencida) × 100.",
        "en": "(opening receivables + sales − closing receivables) ÷ (opening receivables + "
        "sales − closing not-yet-due receivables) × 100.",
    },
    "dashboard.kpi.opening_ar": {"es": "Saldo inicial", "en": "Opening receivables"},
    "dashboard.kpi.promises": {"es": "Promesas cumplidas", "en": "Promises kept"},
    "dashboard.kpi.promises.formula": {
        "es": "Cumplidas ÷ (cumplidas + incumplidas), entre las resueltas en el período.",
        "en": "Kept ÷ (kept + broken), of those settled in the period.",
    },
    "dashboard.kpi.promises.kept": {"es": "Cumplidas", "en": "Kept"},
    "dashboard.kpi.promises.broken": {"es": "Incumplidas", "en": "Broken"},
    "dashboard.kpi.tasks": {"es": "Tareas con SLA vencido", "en": "Tasks past SLA"},
    "dashboard.kpi.tasks.formula": {
        "es": "Tareas abiertas cuyo plazo venció antes del cierre del día (pospuestas incluidas).",
        "en": "Open tasks whose deadline passed by the end of the day (snoozed ones included).",
    },
    "dashboard.kpi.tasks.open": {"es": "Tareas abiertas", "en": "Open tasks"},
    "dashboard.aging.title": {"es": "Antigüedad de la cartera", "en": "Receivables aging"},
    "dashboard.aging.chart": {
        "es": "Saldo por tramo de días de atraso, en {currency}",
        "en": "Amount due by days past due, in {currency}",
    },
    "dashboard.aging.caption": {
        "es": "Saldo y facturas por tramo de días de atraso",
        "en": "Amount due and invoices by days past due",
    },
    "dashboard.bucket": {"es": "Tramo", "en": "Bucket"},
    "dashboard.bucket.current": {"es": "Al día", "en": "Current"},
    "dashboard.bucket.1-30": {"es": "1–30 días", "en": "1–30 days"},
    "dashboard.bucket.31-60": {"es": "31–60 días", "en": "31–60 days"},
    "dashboard.bucket.61-90": {"es": "61–90 días", "en": "61–90 days"},
    "dashboard.bucket.91-120": {"es": "91–120 días", "en": "91–120 days"},
    "dashboard.bucket.120+": {"es": "Más de 120 días", "en": "Over 120 days"},
    "dashboard.invoices_count": {"es": "Facturas", "en": "Invoices"},
    "dashboard.amount": {"es": "Monto", "en": "Amount"},
    "dashboard.total": {"es": "Total", "en": "Total"},
    "dashboard.week.title": {"es": "Recaudación de la semana", "en": "This week's collections"},
    "dashboard.week.chart": {
        "es": "Recaudado y pronóstico, semana del {start} al {end}",
        "en": "Collected and forecast, week of {start} to {end}",
    },
    "dashboard.week.caption": {
        "es": "Cómo se forma el pronóstico de la semana",
        "en": "How the week's forecast is made",
    },
    "dashboard.week.collected": {"es": "Recaudado", "en": "Collected"},
    "dashboard.week.forecast": {"es": "Pronóstico", "en": "Forecast"},
    "dashboard.week.promised": {
        "es": "Promesas y cuotas de convenio que vencen en la semana",
        "en": "Promises and plan instalments falling due this week",
    },
    "dashboard.week.due": {
        "es": "Facturas que vencen en la semana sin compromiso (saldo del lunes)",
        "en": "Invoices falling due this week with no commitment (Monday's balance)",
    },
    "dashboard.week.share": {
        "es": "× proporción pagada a tiempo en el período",
        "en": "× share paid on time in the period",
    },
    "dashboard.week.expected": {"es": "Esperado por vencimientos", "en": "Expected from due dates"},
    "dashboard.week.baseline": {
        "es": "Pronóstico base, no un modelo: promesas y cuotas a su monto, más los saldos que "
        "vencen en la semana ponderados por la proporción de facturas de los últimos {days} días "
        "pagadas a su vencimiento. Un pronóstico con modelo vendrá después.",
        "en": "A plain baseline, not a model: promises and instalments at their amounts, plus "
        "balances falling due this week weighted by the share of the last {days} days' invoices "
        "paid by their due date. A model forecast comes later.",
    },
    "dashboard.recovery.title": {
        "es": "Recuperación por canal y por paso",
        "en": "Recovery by channel and by step",
    },
    "dashboard.recovery.explain": {
        "es": "Cada pago del período se atribuye al último mensaje enviado sobre su factura en "
        "los {days} días anteriores; si no hubo ninguno, a «sin contacto».",
        "en": "Each payment of the period is credited to the last message sent about its "
        "invoice in the {days} days before it; if there was none, to “no contact”.",
    },
    "dashboard.recovery.total": {"es": "Total recuperado", "en": "Total recovered"},
    "dashboard.recovery.payment_count": {"es": "{count} pagos", "en": "{count} payments"},
    "dashboard.recovery.by_channel": {"es": "Recuperado por canal", "en": "Recovered by channel"},
    "dashboard.recovery.by_step": {
        "es": "Recuperado por paso de la política",
        "en": "Recovered by policy step",
    },
    "dashboard.recovery.channel": {"es": "Canal", "en": "Channel"},
    "dashboard.recovery.step_column": {"es": "Paso", "en": "Step"},
    "dashboard.recovery.step": {"es": "{step} ({policy})", "en": "{step} ({policy})"},
    "dashboard.recovery.payments": {"es": "Pagos", "en": "Payments"},
    "dashboard.recovery.no_contact": {"es": "Sin contacto", "en": "No contact"},
    "dashboard.recovery.none": {
        "es": "No hubo pagos en el período.",
        "en": "There were no payments in the period.",
    },
    "dashboard.invoices.title": {"es": "Facturas de la cifra", "en": "Invoices behind the figure"},
    "dashboard.invoices.back": {"es": "Volver al panel", "en": "Back to the dashboard"},
    "dashboard.invoices.scope": {
        "es": "{currency} · al {as_of} · período de {days} días",
        "en": "{currency} · as of {as_of} · {days}-day period",
    },
    "dashboard.invoices.caption": {
        "es": "Facturas que forman la cifra, de la más antigua a la más reciente",
        "en": "Invoices that make up the figure, oldest due date first",
    },
    "dashboard.invoices.showing": {
        "es": "Mostrando {first}–{last} de {count} facturas.",
        "en": "Showing {first}–{last} of {count} invoices.",
    },
    "dashboard.invoices.invoice_word": {"es": "facturas", "en": "invoices"},
    "dashboard.invoices.none": {
        "es": "Ninguna factura forma esta cifra.",
        "en": "No invoice makes up this figure.",
    },
    "dashboard.invoices.number": {"es": "Factura", "en": "Invoice"},
    "dashboard.invoices.customer": {"es": "Cliente", "en": "Customer"},
    "dashboard.invoices.due_on": {"es": "Vencimiento", "en": "Due date"},
    "dashboard.invoices.days_past_due": {"es": "Días de atraso", "en": "Days past due"},
    "dashboard.invoices.stage": {"es": "Etapa", "en": "Stage"},
    "dashboard.invoices.amount": {"es": "Monto", "en": "Amount"},
    "dashboard.invoices.amount_due": {"es": "Saldo actual", "en": "Amount due now"},
    "dashboard.invoices.in_figure": {"es": "En la cifra", "en": "In the figure"},
    "dashboard.invoices.items.payments": {"es": "Pagos", "en": "Payments"},
    "dashboard.invoices.items.promises": {
        "es": "Promesas y cuotas",
        "en": "Promises and instalments",
    },
    "dashboard.invoices.items.tasks": {"es": "Tareas", "en": "Tasks"},
    "dashboard.invoices.unknown": {
        "es": "aún no recibida del ERP",
        "en": "not received from the ERP yet",
    },
    "dashboard.invoices.pages": {"es": "Páginas", "en": "Pages"},
    "dashboard.invoices.previous": {"es": "Anterior", "en": "Previous"},
    "dashboard.invoices.next": {"es": "Siguiente", "en": "Next"},
    "dashboard.invoices.bad_filter.title": {"es": "Filtro no válido", "en": "Invalid filter"},
    "dashboard.invoices.bad_filter": {
        "es": "El filtro «{detail}» no corresponde a ninguna cifra del panel.",
        "en": "The filter “{detail}” matches no figure of the dashboard.",
    },
    "dashboard.filter.open": {"es": "Cartera por cobrar", "en": "Accounts receivable"},
    "dashboard.filter.current": {"es": "Cartera no vencida", "en": "Not-yet-due receivables"},
    "dashboard.filter.aging": {"es": "Cartera en el tramo {bucket}", "en": "Receivables {bucket}"},
    "dashboard.filter.opening": {
        "es": "Saldo inicial del período",
        "en": "Receivables at the start of the period",
    },
    "dashboard.filter.sales": {
        "es": "Ventas a crédito del período",
        "en": "Credit sales of the period",
    },
    "dashboard.filter.collected": {
        "es": "Pagos recibidos del {first} al {last}",
        "en": "Payments received from {first} to {last}",
    },
    "dashboard.filter.forecast_promised": {
        "es": "Promesas y cuotas que vencen en la semana",
        "en": "Promises and instalments falling due this week",
    },
    "dashboard.filter.forecast_due": {
        "es": "Facturas que vencen en la semana sin compromiso",
        "en": "Invoices falling due this week with no commitment",
    },
    "dashboard.filter.recovered_channel": {
        "es": "Pagos atribuidos a {channel}",
        "en": "Payments credited to {channel}",
    },
    "dashboard.filter.recovered_step": {
        "es": "Pagos atribuidos al paso {step} ({policy})",
        "en": "Payments credited to step {step} ({policy})",
    },
    "dashboard.filter.recovered_no_contact": {
        "es": "Pagos sin contacto previo",
        "en": "Payments with no contact before them",
    },
    "dashboard.filter.promise_kept": {
        "es": "Promesas cumplidas en el período",
        "en": "Promises kept in the period",
    },
    "dashboard.filter.promise_broken": {
        "es": "Promesas incumplidas en el período",
        "en": "Promises broken in the period",
    },
    "dashboard.filter.task_open": {"es": "Tareas abiertas", "en": "Open tasks"},
    "dashboard.filter.task_past_sla": {"es": "Tareas con SLA vencido", "en": "Tasks past SLA"},
}
