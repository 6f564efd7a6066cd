"""The board briefing as a PDF (A4, running headers, page numbers), rendered by WeasyPrint.

WeasyPrint needs Pango from the system (Debian: libpango-1.0-0, libpangoft2-1.0-0; .ci/run and
deploy/Dockerfile.notify install them). Where it cannot load, `PdfUnavailable` says why, and
the briefing goes without its attachment rather than not at all.
"""

from __future__ import annotations

import logging
from functools import cache

log = logging.getLogger(__name__)


class PdfUnavailable(RuntimeError):
    """WeasyPrint or the system libraries it needs could not be loaded."""


@cache
def _weasyprint():  # type: ignore[no-untyped-def]
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: Pango missing from the system
        raise PdfUnavailable(f"WeasyPrint cannot load: {exc}") from exc
    return weasyprint


def html_to_pdf(html: str) -> bytes:
    """A PDF of a self-contained HTML page (its CSS in the page; no remote resources fetched)."""
    weasyprint = _weasyprint()
    # nothing is fetched: the page is self-contained, and a mail service makes no requests for it
    offline = weasyprint.URLFetcher(allowed_protocols=("data",), allow_redirects=False)
    return weasyprint.HTML(string=html, url_fetcher=offline).write_pdf()
