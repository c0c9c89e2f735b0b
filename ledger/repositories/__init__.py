"""One repository per aggregate; build each with ``Repo.from_session(session)``."""

from ledger.repositories.base import RecordNotFound, Repository
from ledger.repositories.credits import CreditRepository
from ledger.repositories.customers import CustomerRepository
from ledger.repositories.handoffs import HandoffRepository
from ledger.repositories.interactions import InteractionRepository
from ledger.repositories.invoices import InvoiceRepository
from ledger.repositories.outbox import OutboxRepository
from ledger.repositories.payments import PaymentRepository
from ledger.repositories.tasks import TaskConflict, TaskRepository

__all__ = [
    "CreditRepository",
    "CustomerRepository",
    "HandoffRepository",
    "InteractionRepository",
    "InvoiceRepository",
    "OutboxRepository",
    "PaymentRepository",
    "RecordNotFound",
    "Repository",
    "TaskConflict",
    "TaskRepository",
]
