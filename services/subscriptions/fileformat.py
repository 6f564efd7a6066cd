"""The subscribers file (YAML, or CSV with the same columns): parse to raw rows, write from rows.

Pure functions, no database. Parsing returns raw row dicts with their row numbers plus
file-level errors; validating each row is the caller's job (`SubscriberFields`).
CSV list cells hold several values separated by `|`; an empty cell means "use the default".
YAML is read without aliases: a subscribers file never needs them, and each alias multiplies
the rows or lists that follow (an alias bomb), so the first one refuses the file.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

import yaml

from services.subscriptions.schemas import FILE_KEYS, LIST_KEYS, RowError

LIST_SEPARATOR = "|"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class ParsedFile:
    organisation: str | None = None
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


class _NoAliasLoader(yaml.SafeLoader):
    """The safe loader, refusing the first alias (`*name`, merge keys included) it meets."""

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.YAMLError(f"YAML aliases (*name) are not allowed in a subscribers file (line {mark.line + 1})")
        return super().compose_node(parent, index)


def _decode(data: bytes) -> str | RowError:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return RowError(row=0, message=f"the file is not UTF-8 text ({exc.reason} at byte {exc.start})")


def parse(data: bytes, fmt: str) -> ParsedFile:
    if fmt == "yaml":
        return parse_yaml(data)
    if fmt == "csv":
        return parse_csv(data)
    return ParsedFile(errors=[RowError(row=0, message=f"unknown format {fmt!r}: use yaml or csv")])


def parse_yaml(data: bytes) -> ParsedFile:
    text = _decode(data)
    if isinstance(text, RowError):
        return ParsedFile(errors=[text])
    try:
        doc = yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506  (a SafeLoader)
    except yaml.YAMLError as exc:
        return ParsedFile(errors=[RowError(row=0, message=f"not valid YAML: {exc}")])
    except RecursionError:
        return ParsedFile(errors=[RowError(row=0, message="not valid YAML: nested too deeply")])
    if not isinstance(doc, dict):
        return ParsedFile(errors=[RowError(row=0, message="expected a mapping with 'subscribers:'")])
    unknown = sorted(str(k) for k in doc if k not in ("organisation", "subscribers"))
    if unknown:
        return ParsedFile(errors=[RowError(row=0, message=f"unknown keys: {', '.join(unknown)}")])
    organisation = doc.get("organisation")
    if organisation is not None and (not isinstance(organisation, str) or not organisation.strip()):
        return ParsedFile(errors=[RowError(row=0, message="'organisation' must be a name")])
    subscribers = doc.get("subscribers") or []
    if not isinstance(subscribers, list):
        return ParsedFile(errors=[RowError(row=0, message="'subscribers' must be a list")])
    parsed = ParsedFile(organisation=organisation.strip() if organisation else None)
    for number, entry in enumerate(subscribers, start=1):
        if isinstance(entry, dict):
            parsed.rows.append((number, {str(k): v for k, v in entry.items()}))
        else:
            parsed.errors.append(RowError(row=number, message="each subscriber must be a mapping"))
    return parsed


def parse_csv(data: bytes) -> ParsedFile:
    text = _decode(data)
    if isinstance(text, RowError):
        return ParsedFile(errors=[text])
    reader = csv.DictReader(io.StringIO(text, newline=""))
    headers = [h.strip() for h in (reader.fieldnames or [])]
    if not headers:
        return ParsedFile(errors=[RowError(row=0, message="the CSV file has no header row")])
    unknown = [h for h in headers if h not in FILE_KEYS]
    if unknown:
        return ParsedFile(errors=[RowError(row=1, message=f"unknown columns: {', '.join(unknown)}")])
    reader.fieldnames = headers
    parsed = ParsedFile()
    try:
        for record in reader:
            number = reader.line_num
            if None in record:
                parsed.errors.append(RowError(row=number, message="more cells than columns"))
                continue
            row = {k: _cell(k, v) for k, v in record.items() if v is not None and v.strip() != ""}
            if row:
                parsed.rows.append((number, row))
    except csv.Error as exc:
        parsed.errors.append(RowError(row=reader.line_num, message=f"unreadable CSV: {exc}"))
    return parsed


def _cell(key: str, value: str) -> Any:
    value = _unprotect(value.strip())
    if key in LIST_KEYS:
        return [_unprotect(v.strip()) for v in value.split(LIST_SEPARATOR) if v.strip()]
    return value


def _protect(value: str) -> str:
    """Spreadsheets run cells that start like a formula: make them text (OWASP CSV injection)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _unprotect(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith(_FORMULA_START) else value


def dump_yaml(organisation: str, rows: list[dict[str, Any]]) -> bytes:
    doc = {"organisation": organisation, "subscribers": [_ordered(r) for r in rows]}
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True).encode("utf-8")


def dump_csv(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(FILE_KEYS), lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        cells = {}
        for key, value in _ordered(row).items():
            if key in LIST_KEYS:
                cells[key] = LIST_SEPARATOR.join(_protect(str(v)) for v in value)
            elif isinstance(value, bool):
                cells[key] = "true" if value else "false"
            else:
                cells[key] = _protect(str(value))
        writer.writerow(cells)
    return out.getvalue().encode("utf-8")


def _ordered(row: dict[str, Any]) -> dict[str, Any]:
    """The row's keys in file order; an unset optional key (None) is left out, as in a file."""
    return {k: row[k] for k in FILE_KEYS if row.get(k) is not None}
