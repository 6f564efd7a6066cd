"""Named, expected failures of ingest: values recorded on the source, never exceptions."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class ErrorKind(StrEnum):
    """What went wrong with a source or an input, in words a librarian can act on."""

    # fetching
    invalid_url = "invalid_url"
    forbidden_address = "forbidden_address"
    file_urls_disabled = "file_urls_disabled"
    dns_error = "dns_error"
    connect_error = "connect_error"
    timeout = "timeout"
    too_large = "too_large"
    too_many_redirects = "too_many_redirects"
    redirect_loop = "redirect_loop"
    rate_limited = "rate_limited"
    gone = "gone"
    http_error = "http_error"
    read_error = "read_error"
    # parsing
    empty_body = "empty_body"
    html_page = "html_page"
    not_a_feed = "not_a_feed"
    parse_error = "parse_error"
    # a feed that parsed with a problem but still gave entries (a warning, not a failure)
    bozo = "bozo"


class IngestError(BaseModel):
    """One recorded failure: its kind and a human message."""

    model_config = ConfigDict(frozen=True)

    kind: ErrorKind
    message: str

    def as_line(self, input_name: str) -> dict[str, str]:
        """The JSON error line `horizon ingest parse` writes on stderr."""
        return {"input": input_name, "error": self.kind.value, "message": self.message}
