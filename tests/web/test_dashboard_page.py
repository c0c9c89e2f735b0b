"""The dashboard page shows the ledger's figures, and every number's link lists the invoices that
add up to it. The book is the one of tests/ledger/test_dashboard_figures.py (as of 2025-06-11,
a 30-day period), whose docstrings compute every figure by hand."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from html import unescape
from pathlib import Path

from sqlalchemy.orm import Session

from dunning_policies.messages import format_money
from ledger.db import unit_of_work
from ledger.reports.dashboard import DashboardFigures, Total, dashboard_figures
from tests.ledger.test_dashboard_figures import AS_OF, PERIOD_DAYS, build_book
from tests.ledger_support import make_invoice
from tests.web.pages_support import Pages, pages_over_ledger, seed
from tests.web.sessions import sign_in_as, test_user

PAGE = f"/app/dashboard?currency=CLP&as_of={AS_OF.isoformat()}&period={PERIOD_DAYS}"
LINK = re.compile(r'<a data-figure="([^"]+)" href="([^"]+)">([^<]+)</a>')


def _links(html: str) -> dict[str, tuple[str, str]]:
    """data-figure key → (href, text) of every number that links to its invoices."""
    return {key: (unescape(href), unescape(text)) for key, href, text in LINK.findall(html)}


def _figures(pages: Pages) -> DashboardFigures:
    with unit_of_work(pages.sessions) as session:
        return dashboard_figures(session, as_of=AS_OF, currency="CLP", period_days=PERIOD_DAYS)


def _money(total: Total, locale: str = "es_CL") -> str:
    return format_money(total.amount, total.currency, locale)


def _total(html: str, what: str) -> str:
    match = re.search(rf'data-total="{what}">([^<]*)<', html)
    assert match, f"no {what} total on the page"
    return unescape(match.group(1))


async def test_each_kpi_on_the_page_is_the_ledger_figure(tmp_path: Path) -> None:
    async with pages_over_ledger(tmp_path) as pages:
        seed(pages.sessions, build_book)
        sign_in_as(pages.http, pages.settings, test_user("ops"), pages.sessions)

        response = await pages.http.get(PAGE)

        assert response.status_code == 200, response.text
        figures = _figures(pages)
        shown = {key: text for key, (_, text) in _links(response.text).items()}
        assert shown["total_ar"] == _money(figures.total_ar) == "$2.800.000"
        assert shown["current_ar"] == _money(figures.current_ar) == "$500.000"
        assert shown["dso"] == "80,0 días" and figures.dso is not None
        assert shown["bpdso"] == "14,3 días"
        assert shown["add"] == "65,7 días"
        assert shown["cei"] == "33,3 %"
        assert shown["opening_ar"] == _money(figures.opening_ar) == "$2.900.000"
        assert shown["credit_sales"] == _money(figures.credit_sales) == "$1.050.000"
        assert shown["promise_rate"] == "50,0 %"
        assert (shown["promises_kept"], shown["promises_broken"]) == ("1", "1")
        assert (shown["tasks_past_sla"], shown["tasks_open"]) == ("2", "3")
        assert shown["aging_31-60"] == _money(figures.aging[2].invoices) == "$950.000"
        assert shown["aging_120+_count"] == "1"
        assert shown["week_collected"] == _money(figures.week.collected) == "$100.000"
        assert shown["week_promised"] == "$600.000"
        assert shown["week_due"] == "$750.000"
        assert 'data-figure="week_forecast">$850.000<' in response.text
        assert 'data-figure="week_share">33,3 %<' in response.text
        assert shown["channel_whatsapp"] == "$400.000"
        assert shown["channel_none"] == "$300.000"
        assert shown["step_standard_overdue_30"] == "$200.000"
        assert shown["recovered"] == "$1.000.000"
        # Each card explains its formula in visible text, not in a tooltip.
        assert "Cartera ÷ ventas a crédito de los últimos 30 días × 30." in response.text
        assert 'lang="es"' in response.text


# A ratio's link lists the invoices of the balance it is computed from.
RATIO_BASES = {"dso": "total_ar", "add": "total_ar", "cei": "total_ar", "bpdso": "current_ar"}


async def test_every_link_lists_invoices_adding_up_to_its_number(tmp_path: Path) -> None:
    async with pages_over_ledger(tmp_path) as pages:
        seed(pages.sessions, build_book)
        sign_in_as(pages.http, pages.settings, test_user("ops"), pages.sessions)
        links = _links((await pages.http.get(PAGE)).text)
        assert len(links) > 30

        for key, (href, text) in links.items():
            listing = await pages.http.get(href)
            assert listing.status_code == 200, (key, listing.text)
            html = listing.text
            if "Ninguna factura forma esta cifra." in html:
                assert text in ("0", "$0"), key
            elif key in RATIO_BASES:
                assert _total(html, "amount") == links[RATIO_BASES[key]][1], key
            elif key == "promise_rate":
                assert _total(html, "items") == links["promises_kept"][1]
            elif text.startswith("$"):
                assert _total(html, "amount") == text, key
            elif 'data-total="items"' in html:
                assert _total(html, "items") == text, key
            else:
                assert _total(html, "invoices") == text, key


async def test_the_drill_down_lists_the_invoices_of_a_bucket(tmp_path: Path) -> None:
    async with pages_over_ledger(tmp_path) as pages:
        seed(pages.sessions, build_book)
        sign_in_as(pages.http, pages.settings, test_user("collector"), pages.sessions)

        listing = await pages.http.get(
            "/app/invoices",
            params={"currency": "CLP", "as_of": AS_OF.isoformat(), "aging": "31-60"},
        )

        assert listing.status_code == 200, listing.text
        html = listing.text
        assert re.findall(r'data-invoice="([^"]+)"', html) == ["F-J", "F-A"]
        assert '<a href="/app/customers/C-2">Distribuidora del Norte Ltda.</a>' in html
        assert "Convenio de pago" in html  # the stage, translated
        assert ">58<" in html  # F-J's days past due on 2025-06-11
        assert _total(html, "amount") == "$950.000"
        assert "Volver al panel" not in html  # a collector has no dashboard to go back to


async def test_a_collector_may_not_see_the_dashboard(tmp_path: Path) -> None:
    async with pages_over_ledger(tmp_path) as pages:
        sign_in_as(pages.http, pages.settings, test_user("collector"), pages.sessions)

        response = await pages.http.get(PAGE)

        assert response.status_code == 403
        assert "Sin acceso" in response.text


async def test_signed_out_goes_to_sign_in(tmp_path: Path) -> None:
    async with pages_over_ledger(tmp_path) as pages:
        response = await pages.http.get("/app/dashboard")

        assert response.status_code == 303
        assert response.headers["location"] == "/app/sign-in?next=/app/dashboard"


async def test_english_on_request(tmp_path: Path) -> None:
    async with pages_over_ledger(tmp_path) as pages:
        seed(pages.sessions, build_book)
        sign_in_as(pages.http, pages.settings, test_user("admin"), pages.sessions)
        pages.http.cookies.set("dunning_lang", "en")

        response = await pages.http.get(PAGE)

        assert response.status_code == 200, response.text
        shown = {key: text for key, (_, text) in _links(response.text).items()}
        assert 'lang="en"' in response.text
        assert "Collections dashboard" in response.text
        assert shown["dso"] == "80.0 days"
        assert shown["cei"] == "33.3%"
        assert shown["total_ar"] == _money(_figures(pages).total_ar, "en_US")
        assert "Receivables ÷ credit sales of the last 30 days × 30." in response.text


async def test_charts_are_accessible_svg_without_inline_styles(tmp_path: Path) -> None:
    async with pages_over_ledger(tmp_path) as pages:
        seed(pages.sessions, build_book)
        sign_in_as(pages.http, pages.settings, test_user("ops"), pages.sessions)

        html = (await pages.http.get(PAGE)).text

        charts = re.findall(r"<svg [^>]*>", html)
        assert len(charts) == 4  # aging, week, by channel, by step
        for chart in charts:
            assert 'role="img"' in chart and "aria-labelledby=" in chart
        assert html.count("<title id=") == 4 and html.count("<desc id=") == 4
        assert '<desc id="aging-chart-desc">Al día: $500.000; 1–30 días: $550.000;' in html
        assert " style=" not in html
        assert "<script>" not in html


async def test_defaults_today_and_the_most_common_currency(tmp_path: Path) -> None:
    async with pages_over_ledger(tmp_path) as pages:
        seed(pages.sessions, build_book)
        sign_in_as(pages.http, pages.settings, test_user("ops"), pages.sessions)

        response = await pages.http.get("/app/dashboard")
        bad = await pages.http.get("/app/dashboard", params={"as_of": "11/06/2025"})

        today = datetime.now(UTC).date().isoformat()
        assert f'name="as_of" value="{today}"' in response.text
        assert '<option value="CLP" selected>' in response.text
        assert '<option value="USD" >' in response.text
        assert bad.status_code == 200
        assert "«11/06/2025» no es una fecha válida" in bad.text


def _many_open_invoices(session: Session) -> None:
    for index in range(201):
        make_invoice(
            session,
            f"F-{index:03d}",
            amount_minor=1_000,
            issued_on=date(2025, 5, 1),
            due_on=date(2025, 5, 31),
        )


async def test_the_list_pages_at_200_and_totals_all_of_them(tmp_path: Path) -> None:
    async with pages_over_ledger(tmp_path) as pages:
        seed(pages.sessions, _many_open_invoices)
        sign_in_as(pages.http, pages.settings, test_user("ops"), pages.sessions)
        params = {"currency": "CLP", "as_of": AS_OF.isoformat(), "open": "1"}

        first = await pages.http.get("/app/invoices", params=params)
        second = await pages.http.get("/app/invoices", params={**params, "page": "2"})

        assert "Mostrando 1–200 de 201 facturas." in first.text
        assert len(re.findall(r"data-invoice=", first.text)) == 200
        assert 'rel="next"' in first.text
        assert re.findall(r'data-invoice="([^"]+)"', second.text) == ["F-200"]
        assert _total(first.text, "amount") == _total(second.text, "amount") == "$201.000"


async def test_a_filter_naming_no_figure_is_refused(tmp_path: Path) -> None:
    async with pages_over_ledger(tmp_path) as pages:
        sign_in_as(pages.http, pages.settings, test_user("ops"), pages.sessions)

        response = await pages.http.get("/app/invoices", params={"aging": "7-8"})

        assert response.status_code == 400
        assert "Filtro no válido" in response.text


def test_every_word_is_in_both_languages_with_the_same_placeholders() -> None:
    from string import Formatter

    from api.web.i18n import catalogue, dashboard
    from ledger.reports.contributions import AGING_BUCKETS

    templates = Path(__file__).parents[2] / "api" / "web" / "templates" / "dashboard"
    used = {
        key
        for page in templates.glob("*.html")
        for key in re.findall(r"""t\(\s*["']([a-z_.0-9+-]*[a-z_0-9+])["']""", page.read_text())
    }
    used |= {f"dashboard.bucket.{bucket.key}" for bucket in AGING_BUCKETS}
    assert len(used) > 40
    assert used - catalogue().keys() == set()
    for key, texts in dashboard.MESSAGES.items():
        assert key.startswith("dashboard."), key
        assert set(texts) == {"es", "en"}, key
        fields = [{f for _, f, _, _ in Formatter().parse(texts[lang]) if f} for lang in texts]
        assert fields[0] == fields[1], key


async def test_an_empty_ledger_and_an_unknown_currency_still_show_a_dashboard(
    tmp_path: Path,
) -> None:
    async with pages_over_ledger(tmp_path) as pages:
        sign_in_as(pages.http, pages.settings, test_user("ops"), pages.sessions)

        empty = await pages.http.get("/app/dashboard", params={"currency": "ZZZ"})
        listing = await pages.http.get("/app/invoices", params={"currency": "ZZZ", "open": "1"})

        assert empty.status_code == 200, empty.text
        shown = {key: text for key, (_, text) in _links(empty.text).items()}
        assert (shown["total_ar"], shown["dso"]) == ("$0", "sin datos")
        assert "No hubo pagos en el período." in empty.text
        assert listing.status_code == 400
