"""Payment-link providers: bank transfer instructions, and Mercado Pago Checkout Pro through
the real SDK against a loopback fake of its API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy.orm import Session

from api.portal.payment_links import (
    BankTransferProvider,
    MercadoPagoProvider,
    PaymentLinkFailed,
    PaymentLinkLine,
    PaymentLinkRequest,
    payment_link_provider,
)
from config.settings import Settings
from ledger.db import create_ledger_engine
from ledger.repositories.payment_links import PaymentLinkRepository
from tests.fakes.mercadopago_server import (
    FakeMercadoPagoServer,
    mercadopago_error,
    mercadopago_server,
)
from tests.ledger_support import rolled_back_session, sqlite_url

ACCESS_TOKEN = "TEST-1234567890-112233-abcdef"


@pytest.fixture
def fake_mp() -> Iterator[FakeMercadoPagoServer]:
    yield from mercadopago_server()


def mp_settings(tmp_path: Path, fake: FakeMercadoPagoServer) -> Settings:
    return Settings(
        data_dir=tmp_path,
        payment_link_provider="mercadopago",
        mercadopago_access_token=SecretStr(ACCESS_TOKEN),
        mercadopago_api_base_url=fake.url,
    )


def link_request(
    *lines: tuple[str, str], currency: str = "CLP", link_id: str = "PL-0123456789abcdef"
) -> PaymentLinkRequest:
    parsed = tuple(
        PaymentLinkLine(number, Decimal(amount), date(2026, 12, 1)) for number, amount in lines
    )
    return PaymentLinkRequest(
        link_id=link_id,
        customer_id="C-42",
        customer_name="Ferretería Los Andes SpA",
        customer_email="pagos@losandes.cl",
        lines=parsed,
        total=sum((line.amount_due for line in parsed), Decimal(0)),
        currency=currency,
        return_url="https://cobranza.example/portal/TOKEN",
    )


def test_bank_transfer_gives_the_company_account_the_exact_amount_and_a_reference(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path, bank_account_number="00-999-1", bank_name="BancoEstado")
    created = BankTransferProvider(settings).create(
        link_request(("F-1", "1250000"), ("F-2", "480500"))
    )
    assert created.provider == "bank_transfer" and created.url is None
    instructions = created.instructions
    assert instructions is not None
    assert (instructions.amount, instructions.currency) == (Decimal("1730500"), "CLP")
    assert instructions.reference == "F-1 F-2"
    assert (instructions.bank_name, instructions.account_number) == ("BancoEstado", "00-999-1")
    assert instructions.receipt_email == settings.bank_transfer_email


def test_a_reference_too_long_for_a_bank_becomes_the_link_id(tmp_path: Path) -> None:
    many = [(f"F-2026-{n:06d}", "1000") for n in range(6)]
    created = BankTransferProvider(Settings(data_dir=tmp_path)).create(link_request(*many))
    assert created.instructions is not None
    assert created.instructions.reference == "PL-0123456789abcdef"


def test_the_provider_follows_the_settings(tmp_path: Path, fake_mp: FakeMercadoPagoServer) -> None:
    assert isinstance(payment_link_provider(Settings(data_dir=tmp_path)), BankTransferProvider)
    assert isinstance(payment_link_provider(mp_settings(tmp_path, fake_mp)), MercadoPagoProvider)
    with pytest.raises(ValueError, match="ACCESS_TOKEN"):
        payment_link_provider(Settings(data_dir=tmp_path, payment_link_provider="mercadopago"))


def test_mercadopago_creates_a_checkout_pro_preference_through_the_sdk(
    tmp_path: Path, fake_mp: FakeMercadoPagoServer
) -> None:
    provider = MercadoPagoProvider(mp_settings(tmp_path, fake_mp))
    created = provider.create(link_request(("F-1", "1250000"), ("F-2", "480500")))

    [sent] = fake_mp.preferences()
    assert sent.header("Authorization") == f"Bearer {ACCESS_TOKEN}"
    assert sent.header("X-Idempotency-Key") == "PL-0123456789abcdef"
    assert (sent.header("User-Agent") or "").startswith("MercadoPago Python SDK")
    assert sent.body["items"] == [
        {
            "id": "F-1",
            "title": "Factura F-1",
            "quantity": 1,
            "unit_price": 1250000,
            "currency_id": "CLP",
        },
        {
            "id": "F-2",
            "title": "Factura F-2",
            "quantity": 1,
            "unit_price": 480500,
            "currency_id": "CLP",
        },
    ]
    assert sent.body["external_reference"] == "PL-0123456789abcdef"
    assert sent.body["back_urls"] == {
        "success": "https://cobranza.example/portal/TOKEN",
        "pending": "https://cobranza.example/portal/TOKEN",
        "failure": "https://cobranza.example/portal/TOKEN",
    }
    assert sent.body["payer"] == {
        "name": "Ferretería Los Andes SpA",
        "email": "pagos@losandes.cl",
    }
    assert created.provider == "mercadopago"
    assert created.provider_reference and created.url == fake_mp.checkout_url(
        created.provider_reference
    )


def test_a_price_with_cents_keeps_its_cents(tmp_path: Path, fake_mp: FakeMercadoPagoServer) -> None:
    provider = MercadoPagoProvider(mp_settings(tmp_path, fake_mp))
    provider.create(link_request(("M-1", "12500.50"), ("M-2", "99.99"), currency="MXN"))
    [sent] = fake_mp.preferences()
    assert [item["unit_price"] for item in sent.body["items"]] == [12500.5, 99.99]
    assert b'"unit_price": 12500.5,' in sent.raw and b'"unit_price": 99.99,' in sent.raw


def test_a_retried_create_gets_the_same_preference(
    tmp_path: Path, fake_mp: FakeMercadoPagoServer
) -> None:
    provider = MercadoPagoProvider(mp_settings(tmp_path, fake_mp))
    first = provider.create(link_request(("F-1", "1000")))
    again = provider.create(link_request(("F-1", "1000")))
    assert again.provider_reference == first.provider_reference
    assert len(fake_mp.preferences()) == 2


def test_a_refusal_from_mercadopago_is_an_error_naming_what_it_said(
    tmp_path: Path, fake_mp: FakeMercadoPagoServer
) -> None:
    fake_mp.script(
        "POST",
        r"/checkout/preferences",
        [(400, mercadopago_error(400, "currency_id invalid for this site"), {})],
    )
    provider = MercadoPagoProvider(mp_settings(tmp_path, fake_mp))
    with pytest.raises(PaymentLinkFailed, match="currency_id invalid for this site"):
        provider.create(link_request(("F-1", "1000")))


def test_a_bad_access_token_is_an_error(tmp_path: Path, fake_mp: FakeMercadoPagoServer) -> None:
    fake_mp.script(
        "POST",
        r"/checkout/preferences",
        [(401, mercadopago_error(401, "invalid access token", "unauthorized"), {})],
    )
    provider = MercadoPagoProvider(mp_settings(tmp_path, fake_mp))
    with pytest.raises(PaymentLinkFailed, match="401"):
        provider.create(link_request(("F-1", "1000")))


def test_mercadopago_unreachable_is_an_error(tmp_path: Path) -> None:
    with FakeMercadoPagoServer() as gone:
        url = gone.url
    settings = Settings(
        data_dir=tmp_path,
        payment_link_provider="mercadopago",
        mercadopago_access_token=SecretStr(ACCESS_TOKEN),
        mercadopago_api_base_url=url,
    )
    with pytest.raises(PaymentLinkFailed, match="mercadopago"):
        MercadoPagoProvider(settings).create(link_request(("F-1", "1000")))


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = create_ledger_engine(sqlite_url(tmp_path))
    try:
        with rolled_back_session(engine) as session:
            yield session
    finally:
        engine.dispose()


def test_an_open_link_for_the_same_invoices_and_amount_is_reused(session: Session) -> None:
    links = PaymentLinkRepository.from_session(session)
    now = datetime.now(UTC)
    links.add(
        id="PL-1",
        customer_id="C-42",
        invoice_numbers=["F-2", "F-1"],
        provider="mercadopago",
        provider_reference="pref-1",
        url="https://mp.example/checkout?pref_id=pref-1",
        amount_minor=1_730_500,
        currency="CLP",
    )
    found = links.reusable(
        customer_id="C-42",
        invoice_numbers=["F-1", "F-2"],
        provider="mercadopago",
        amount_minor=1_730_500,
        currency="CLP",
        since=now - timedelta(hours=1),
    )
    assert found is not None and found.id == "PL-1"
    for different in (
        {"invoice_numbers": ["F-1"]},
        {"amount_minor": 1_730_000},
        {"customer_id": "C-43"},
        {"provider": "bank_transfer"},
        {"since": now + timedelta(hours=1)},
    ):
        query = {
            "customer_id": "C-42",
            "invoice_numbers": ["F-1", "F-2"],
            "provider": "mercadopago",
            "amount_minor": 1_730_500,
            "currency": "CLP",
            "since": now - timedelta(hours=1),
            **different,
        }
        assert links.reusable(**query) is None, different  # type: ignore[arg-type]
    assert [link.id for link in links.list_for_customer("C-42")] == ["PL-1"]
