"""Every word of the portal exists in Spanish and English, with the same placeholders, and
every word in the catalogue is used."""

from __future__ import annotations

import re
from pathlib import Path
from string import Formatter

from api.web.i18n import catalogue, portal
from dunning_policies.state import DisputeCode, Stage

ROOT = Path(__file__).parents[2]
TEMPLATES = ROOT / "api" / "web" / "templates" / "portal"
KEY = r"""["']((?:portal|stage|error|nav)\.[a-z_.]*[a-z_])["']"""


def used_keys() -> set[str]:
    sources = [page.read_text() for page in TEMPLATES.glob("*.html")]
    sources += [(ROOT / "api" / "portal" / name).read_text() for name in ("pages.py", "actions.py")]
    return {key for source in sources for key in re.findall(KEY, source)}


def test_every_key_the_portal_uses_is_in_the_catalogue() -> None:
    used = used_keys()
    used |= {f"portal.dispute_code.{code.value}" for code in DisputeCode}
    used |= {f"stage.{stage.value}" for stage in Stage}
    assert used - catalogue().keys() == set()


def test_every_portal_word_is_used_in_both_languages_with_the_same_placeholders() -> None:
    used = used_keys()
    for key, texts in portal.MESSAGES.items():
        assert key.startswith("portal."), key
        assert set(texts) == {"es", "en"}, key
        fields = [{f for _, f, _, _ in Formatter().parse(texts[lang]) if f} for lang in texts]
        assert fields[0] == fields[1], key
        assert key in used or key.startswith(("portal.dispute_code.", "portal.stage.")), (
            f"{key} is never used"
        )
