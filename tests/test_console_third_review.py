"""A third coordinator's review of the console: words a coordinator could not use (a repository's path,
a receipt's title over a procès-verbal), figures missing from a file or a page (when a loan was repaid,
which way a member's money went), a pending code that did not say what it would set up.

The world is the usual two kiosks (K01 Togo, Coopérative ELIKE, 26 weekly meetings; K02 Benin,
Coopérative Zou, 10 meetings).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from test_console_support import World, served_world, signed_in
from test_sync_support import BACKENDS

from sync_server.web.i18n import T
from sync_server.web.indicators import COLUMNS


@pytest.fixture(scope="module", params=BACKENDS)
def w(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from served_world(request.param, tmp_path_factory.mktemp("third-review"))


_as = signed_in


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_the_exports_page_explains_the_indicators_itself_in_both_languages(w: World) -> None:
    """It sent coordinators to 'docs/indicators.md', a path in the repository they cannot open."""
    for lang, i in (("fr", 0), ("en", 1)):
        page = _text(_as(w, "coord_tg", lang=lang).get("/exports").text)
        assert "docs/" not in page and ".md" not in page
        assert T["definitions"][i] in page
        for name in COLUMNS[4:]:  # every figure of the file, after the group's name and place
            assert f"{T['x_' + name][i]} {T['def_' + name][i]}" in page, (lang, name)
