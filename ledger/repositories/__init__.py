"""One repository per aggregate; build each with ``Repo.from_session(session)``."""

from ledger.repositories.base import RecordNotFound, Repository
from ledger.repositories.credits import CreditRepository
from ledger.repositories.customers import CustomerRepository
from ledger.repositories.disputes import DisputeRepository
from ledger.repositories.handoffs import HandoffRepository
from ledger.repositories.interactions import InteractionRepository
from ledger.repositories.invoices import InvoiceRepository
from ledger.repositories.outbox import OutboxRepository
from ledger.repositories.payments import PaymentRepository
from ledger.repositories.plans import PlanConflict, PlanRepository
from ledger.repositories.promises import KeptRate, PromiseRepository
from ledger.repositories.tasks import TaskConflict, TaskRepository

__all__ = [
    "CreditRepository",
    "CustomerRepository",
    "DisputeRepository",
    "HandoffRepository",
    "InteractionRepository",
    "InvoiceRepository",
    "KeptRate",
    "OutboxRepository",
    "PaymentRepository",
    "PlanConflict",
    "PlanRepository",
    "PromiseRepository",
    "RecordNotFound",
    "Repository",
    "TaskConflict",
    "TaskRepository",
]
