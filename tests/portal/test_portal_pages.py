"""The portal's pages over a real ledger: what a link shows, to whom, and what it refuses.
No workflow is reached here (the app's Temporal client fails any call and records it); the
actions on a real workflow are in test_portal_actions.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy.orm import Session

from api.portal.statement import load_statement
from api.portal.tokens import portal_token
from api.web.csrf import CSRF_COOKIE
from api.web.i18n import LANGUAGE_COOKIE
from ledger.db import unit_of_work
from ledger.repositories.payment_links import PaymentLinkRepository
from ledger.repositories.payments import PaymentRepository
from tests.fakes.mercadopago_server import (
    FakeMercadoPagoServer,
    mercadopago_error,
    mercadopago_server,
)
from tests.ledger_support import make_invoice
from tests.portal.support import (
    Portal,
    csrf_token_in,
    portal_over_ledger,
    santiago_today,
    tampered,
    two_customers,
)


@pytest.fixture
def fake_mp() -> Iterator[FakeMercadoPagoServer]:
    yield from mercadopago_server()


def seeded(portal: Portal) -> None:
    today = santiago_today()
    portal.seed(lambda session: two_customers(session, today=today))


async def form_token(portal: Portal, token: str) -> str:
    page = await portal.http.get(f"/portal/{token}")
    assert page.status_code == 200, page.text
    return csrf_token_in(page.text)


async def test_the_link_opens_its_customers_statement_only(tmp_path: Path) -> None:
    async with portal_over_ledger(tmp_path) as portal:
        seeded(portal)
        page = await portal.http.get(f"/portal/{portal.token('C-A', 'F-A1')}")
        assert page.status_code == 200
        html = page.text
        assert '<html lang="es">' in html and "Estado de cuenta" in html
        assert portal.settings.company_name in html
        assert "Ferretería Andes" in html
        assert all(number in html for number in ("F-A1", "F-A2", "F-A3"))
        assert "F-B1" not in html and "Pacific Imports" not in html
        assert "Nuestro mensaje era sobre la factura F-A1" in html
        assert re.search(r'<tr class="highlight">\s*<td data-label="Factura">', html)
        assert 'class="portal"' in html and 'class="stack"' in html
        assert page.headers["referrer-policy"] == "no-referrer"
        assert page.headers["cache-control"] == "no-store"
        assert portal.temporal.asked == []


async def test_a_link_about_a_settled_invoice_says_so_and_only_for_its_customer(
    tmp_path: Path,
) -> None:
    async with portal_over_ledger(tmp_path) as portal:
        seeded(portal)
        portal.seed(lambda session: make_invoice(session, "F-A0", customer_id="C-A", stage="paid"))
        settled = await portal.http.get(f"/portal/{portal.token('C-A', 'F-A0')}")
        assert "La factura F-A0 ya no tiene saldo pendiente" in settled.text
        assert "F-A1" in settled.text
        foreign = await portal.http.get(f"/portal/{portal.token('C-B', 'F-A0')}")
        assert foreign.status_code == 200 and "F-A0" not in foreign.text


async def test_the_page_speaks_the_customers_language_unless_they_chose(tmp_path: Path) -> None:
    async with portal_over_ledger(tmp_path) as portal:
        seeded(portal)
        english = await portal.http.get(f"/portal/{portal.token('C-B')}")
        assert '<html lang="en">' in english.text and "Account statement" in english.text
        assert "F-B1" in english.text and "F-A1" not in english.text
        portal.http.cookies.set(LANGUAGE_COOKIE, "es")
        chosen = await portal.http.get(f"/portal/{portal.token('C-B')}")
        assert '<html lang="es">' in chosen.text and "Estado de cuenta" in chosen.text


async def test_the_statement_adds_up_per_currency_and_lists_recent_payments(
    tmp_path: Path,
) -> None:
    async with portal_over_ledger(tmp_path) as portal:
        seeded(portal)
        now = datetime.now(UTC)

        def paid(session: Session) -> None:
            payments = PaymentRepository.from_session(session)
            payments.add_if_absent(
                id="P-1",
                invoice_number="F-A2",
                customer_id="C-A",
                amount_minor=100_000,
                currency="CLP",
                paid_at=now - timedelta(days=2),
                reference="TRX-778",
            )
            payments.add_if_absent(
                id="P-OTHER",
                invoice_number="F-B1",
                customer_id="C-B",
                amount_minor=5_000,
                currency="CLP",
                paid_at=now - timedelta(days=1),
                reference="NOT-FOR-A",
            )

        portal.seed(paid)
        with unit_of_work(portal.sessions) as session:
            statement = load_statement(session, "C-A", highlight="F-A1", now=now)
        assert statement is not None
        assert [line.number for line in statement.lines] == ["F-A1", "F-A2", "F-A3"]
        assert statement.totals == (("CLP", Decimal("1730500")), ("USD", Decimal("999.50")))
        first = statement.lines[0]
        assert (first.days_overdue, first.stage, first.highlighted) == (10, "overdue", True)
        assert statement.lines[1].stage == "current"  # not reported yet: judged by its date
        assert [(p.invoice_number, p.reference) for p in statement.payments] == [
            ("F-A2", "TRX-778")
        ]

        page = await portal.http.get(f"/portal/{portal.token('C-A')}")
        assert "$1.730.500" in page.text and "US$999,50" in page.text
        assert "TRX-778" in page.text and "NOT-FOR-A" not in page.text


async def test_a_tampered_link_is_not_found_and_an_expired_one_is_gone(tmp_path: Path) -> None:
    async with portal_over_ledger(tmp_path) as portal:
        seeded(portal)
        token = portal.token("C-A", "F-A1")
        for position in (2, len(token) // 2, -3):
            wrong = await portal.http.get(f"/portal/{tampered(token, position)}")
            assert wrong.status_code == 404
            assert "Enlace no válido" in wrong.text and "F-A1" not in wrong.text

        old = portal_token(
            portal.settings,
            "C-A",
            "F-A1",
            issued_at=datetime.now(UTC) - timedelta(days=portal.settings.portal_link_days + 1),
        )
        expired = await portal.http.get(f"/portal/{old}")
        assert expired.status_code == 410
        assert "Este enlace venció" in expired.text
        assert portal.settings.bank_transfer_email in expired.text
        assert "F-A1" not in expired.text and "Ferretería" not in expired.text

        gone_customer = await portal.http.get(f"/portal/{portal.token('C-NOBODY')}")
        assert gone_customer.status_code == 404


async def test_a_link_signed_with_another_key_is_not_found(tmp_path: Path) -> None:
    async with portal_over_ledger(tmp_path) as portal:
        seeded(portal)
        foreign = portal.settings.model_copy(update={"web_secret": SecretStr("another-key")})
        answer = await portal.http.get(f"/portal/{portal_token(foreign, 'C-A')}")
        assert answer.status_code == 404


@pytest.mark.parametrize("action", ["promise", "dispute", "paid", "pay"])
async def test_a_link_cannot_act_on_another_customers_invoice(tmp_path: Path, action: str) -> None:
    async with portal_over_ledger(tmp_path) as portal:
        seeded(portal)
        token = portal.token("C-A")
        csrf = await form_token(portal, token)
        form = {
            "csrf_token": csrf,
            "invoice": "F-B1",
            "promised_date": (santiago_today() + timedelta(days=3)).isoformat(),
            "code": "wrong_amount",
            "reason": "no",
            "reference": "TRX-1",
            "paid_on": santiago_today().isoformat(),
        }
        answer = await portal.http.post(f"/portal/{token}/{action}", data=form)
        assert answer.status_code == 404, answer.text
        assert "F-B1" not in answer.text and "Pacific" not in answer.text
        assert portal.temporal.asked == []
        with unit_of_work(portal.sessions) as session:
            assert PaymentLinkRepository.from_session(session).list_for_customer("C-A") == []


async def test_an_unknown_invoice_number_is_not_found(tmp_path: Path) -> None:
    async with portal_over_ledger(tmp_path) as portal:
        seeded(portal)
        token = portal.token("C-A")
        csrf = await form_token(portal, token)
        promised = (santiago_today() + timedelta(days=3)).isoformat()
        for number in ("F-NOPE", ""):
            answer = await portal.http.post(
                f"/portal/{token}/promise",
                data={"csrf_token": csrf, "invoice": number, "promised_date": promised},
            )
            assert answer.status_code == 404
        assert portal.temporal.asked == []


async def test_every_post_needs_the_forms_csrf_token(tmp_path: Path) -> None:
    async with portal_over_ledger(tmp_path) as portal:
        seeded(portal)
        token = portal.token("C-A")
        await form_token(portal, token)  # the CSRF cookie is set, the form token not sent
        for action in ("pay", "promise", "dispute", "paid"):
            answer = await portal.http.post(f"/portal/{token}/{action}", data={"invoice": "F-A1"})
            assert answer.status_code == 403, action
            assert "Formulario vencido" in answer.text
        portal.http.cookies.delete(CSRF_COOKIE)
        stolen = await portal.http.post(
            f"/portal/{token}/promise", data={"invoice": "F-A1", "csrf_token": "x.y"}
        )
        assert stolen.status_code == 403
        assert portal.temporal.asked == []


async def test_a_form_mistake_is_shown_in_place_without_reaching_the_workflow(
    tmp_path: Path,
) -> None:
    async with portal_over_ledger(tmp_path) as portal:
        seeded(portal)
        token = portal.token("C-A")
        csrf = await form_token(portal, token)
        bad_date = await portal.http.post(
            f"/portal/{token}/promise",
            data={"csrf_token": csrf, "invoice": "F-A2", "promised_date": "mañana"},
        )
        assert bad_date.status_code == 422
        assert re.search(
            r'role="alert" id="promise-problem">Escribe una fecha válida', bad_date.text
        )
        assert re.search(r'<details class="action" open>\s*<summary>Prometer pago', bad_date.text)
        assert 'value="mañana"' in bad_date.text
        assert '<option value="F-A2" selected>' in bad_date.text

        no_reference = await portal.http.post(
            f"/portal/{token}/paid",
            data={"csrf_token": csrf, "invoice": "F-A1", "paid_on": "2026-01-01"},
        )
        assert no_reference.status_code == 422 and "Escribe la referencia" in no_reference.text

        unknown_code = await portal.http.post(
            f"/portal/{token}/dispute",
            data={"csrf_token": csrf, "invoice": "F-A1", "code": "angry"},
        )
        assert unknown_code.status_code == 422 and "Elige un motivo" in unknown_code.text
        assert portal.temporal.asked == []


async def test_without_temporal_an_action_is_told_to_try_again_later(tmp_path: Path) -> None:
    async with portal_over_ledger(tmp_path, connected=False) as portal:
        seeded(portal)
        token = portal.token("C-A")
        csrf = await form_token(portal, token)
        promised = (santiago_today() + timedelta(days=3)).isoformat()
        answer = await portal.http.post(
            f"/portal/{token}/promise",
            data={"csrf_token": csrf, "invoice": "F-A1", "promised_date": promised},
        )
        assert answer.status_code == 503
        assert re.search(r'role="alert" id="promise-problem">No pudimos registrar', answer.text)
        assert f'value="{promised}"' in answer.text


async def test_pay_by_bank_transfer_shows_the_amount_the_account_and_a_reference(
    tmp_path: Path,
) -> None:
    async with portal_over_ledger(tmp_path, bank_account_number="00-777-12345-6") as portal:
        seeded(portal)
        token = portal.token("C-A", "F-A1")
        csrf = await form_token(portal, token)
        answer = await portal.http.post(
            f"/portal/{token}/pay",
            data={"csrf_token": csrf, "invoice": ["F-A1", "F-A2"]},
        )
        assert answer.status_code == 200, answer.text
        html = answer.text
        assert "Pagar por transferencia" in html
        assert "$1.730.500" in html
        assert "F-A1 F-A2" in html  # the transfer's message
        for detail in (
            portal.settings.bank_name,
            portal.settings.bank_account_holder,
            portal.settings.bank_account_tax_id,
            "00-777-12345-6",
            portal.settings.bank_transfer_email,
        ):
            assert detail in html
        assert f'href="/portal/{token}"' in html
        with unit_of_work(portal.sessions) as session:
            [link] = PaymentLinkRepository.from_session(session).list_for_customer("C-A")
            assert (link.provider, link.amount_minor, link.currency) == (
                "bank_transfer",
                1_730_500,
                "CLP",
            )
            assert sorted(link.invoice_numbers) == ["F-A1", "F-A2"]


async def test_pay_all_pays_one_currency_and_mixed_currencies_are_refused(tmp_path: Path) -> None:
    async with portal_over_ledger(tmp_path) as portal:
        seeded(portal)
        token = portal.token("C-A")
        csrf = await form_token(portal, token)
        usd = await portal.http.post(
            f"/portal/{token}/pay", data={"csrf_token": csrf, "invoice": "all", "currency": "USD"}
        )
        assert usd.status_code == 200 and "US$999,50" in usd.text and "F-A3" in usd.text
        mixed = await portal.http.post(
            f"/portal/{token}/pay", data={"csrf_token": csrf, "invoice": ["F-A1", "F-A3"]}
        )
        assert mixed.status_code == 422 and "una moneda a la vez" in mixed.text
        none = await portal.http.post(f"/portal/{token}/pay", data={"csrf_token": csrf})
        assert none.status_code == 422 and "al menos una factura" in none.text


async def test_pay_with_mercadopago_redirects_to_the_checkout(
    tmp_path: Path, fake_mp: FakeMercadoPagoServer
) -> None:
    async with portal_over_ledger(
        tmp_path,
        payment_link_provider="mercadopago",
        mercadopago_access_token=SecretStr("TEST-token"),
        mercadopago_api_base_url=fake_mp.url,
        portal_base_url="https://cobranza.example/portal",
    ) as portal:
        seeded(portal)
        token = portal.token("C-A", "F-A1")
        csrf = await form_token(portal, token)
        answer = await portal.http.post(
            f"/portal/{token}/pay", data={"csrf_token": csrf, "invoice": "F-A1"}
        )
        assert answer.status_code == 303, answer.text
        [sent] = fake_mp.preferences()
        with unit_of_work(portal.sessions) as session:
            [link] = PaymentLinkRepository.from_session(session).list_for_customer("C-A")
            assert answer.headers["location"] == link.url
            assert link.url == fake_mp.checkout_url(str(link.provider_reference))
            assert sent.body["external_reference"] == link.id
        assert sent.body["items"][0]["unit_price"] == 1250000
        assert sent.body["back_urls"]["success"] == f"https://cobranza.example/portal/{token}"

        again = await portal.http.post(
            f"/portal/{token}/pay", data={"csrf_token": csrf, "invoice": "F-A1"}
        )
        assert again.status_code == 303 and again.headers["location"] == link.url
        assert len(fake_mp.preferences()) == 1  # the second tap reuses the checkout


async def test_a_mercadopago_failure_is_told_on_the_page(
    tmp_path: Path, fake_mp: FakeMercadoPagoServer
) -> None:
    fake_mp.script(
        "POST",
        r"/checkout/preferences",
        [(500, mercadopago_error(500, "internal error", "internal_error"), {})],
    )
    async with portal_over_ledger(
        tmp_path,
        payment_link_provider="mercadopago",
        mercadopago_access_token=SecretStr("TEST-token"),
        mercadopago_api_base_url=fake_mp.url,
    ) as portal:
        seeded(portal)
        token = portal.token("C-A")
        csrf = await form_token(portal, token)
        answer = await portal.http.post(
            f"/portal/{token}/pay", data={"csrf_token": csrf, "invoice": "F-A2"}
        )
        assert answer.status_code == 502
        assert re.search(r'role="alert" id="pay-problem">No pudimos abrir el pago', answer.text)
        with unit_of_work(portal.sessions) as session:
            assert PaymentLinkRepository.from_session(session).list_for_customer("C-A") == []
