"""`horizon dlq list|show|replay`: what the services parked on their dead-letter topics, and sending it again.

- `list`: per dead-letter topic (`<topic>.dlq.<service>`), how many letters wait, how many were
  replayed, the oldest and newest, and their errors grouped.
- `show`: the waiting letters themselves, newest first, up to `--limit`, then an "N more" line.
- `replay`: after a fix, republish the waiting letters' original messages to their original
  topics (same key, same value bytes). Each replayed letter is recorded (horizon.deadletters.replayed.v1),
  so a second replay sends nothing new. `--dry-run` says what would be sent.

Filters: --service, --topic (original or dead-letter topic), --error (substring), --since (2h, 7d or
an ISO date-time). Human output by default; --json prints one object for scripts. The broker is
HORIZON_KAFKA_BOOTSTRAP_SERVERS unless --bootstrap is given; on a secure broker it signs in with
HORIZON_KAFKA_SECURITY_PROTOCOL, _USERNAME and _PASSWORD as the admin principal (only it may read
every service's dead letters and republish them). Exit 1 when the broker cannot be read.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer

app = typer.Typer(help="Dead letters: list, show and replay what the services parked.", no_args_is_help=True)

Bootstrap = Annotated[str | None, typer.Option("--bootstrap", help="Kafka bootstrap servers; default "
                                                                  "HORIZON_KAFKA_BOOTSTRAP_SERVERS.")]
Service = Annotated[str | None, typer.Option("--service", help="Only letters this service parked.")]
Topic = Annotated[str | None, typer.Option("--topic", help="Only letters from this topic (or this dead-letter topic).")]
Error = Annotated[str | None, typer.Option("--error", help="Only letters whose error contains this text.")]
Since = Annotated[str | None, typer.Option("--since", help="Only letters parked since: 2h, 7d, or an ISO date-time.")]
Json = Annotated[bool, typer.Option("--json", help="One JSON object on stdout, for scripts.")]


def _read(bootstrap: str | None):
    from horizon.dlq.broker import read_parked
    from services.common.kafka import KafkaSettings

    try:
        kafka = KafkaSettings(bootstrap_servers=bootstrap) if bootstrap else KafkaSettings()
    except ValueError as exc:  # SASL without credentials: say which settings are missing
        typer.echo(f"cannot read the dead-letter topics: {exc}", err=True)
        raise typer.Exit(1) from exc
    address = kafka.bootstrap_servers
    try:
        return kafka, asyncio.run(read_parked(kafka))
    except Exception as exc:  # the broker is away or refuses: say so, plainly
        typer.echo(f"cannot read the dead-letter topics from {address}: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(1) from exc


def _filters(service, topic, error, since):
    from contracts import utcnow
    from horizon.dlq.letters import Filters, parse_since

    try:
        when = parse_since(since, utcnow()) if since else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--since") from exc
    return Filters(service=service, topic=topic, error=error, since=when)


def _letter_json(parked) -> dict[str, Any]:
    letter = parked.letter.model_dump(mode="json") if parked.letter is not None else None
    return {"place": parked.place, "dead_letter_topic": parked.dead_letter_topic, "service": parked.service,
            "topic": parked.topic, "failed_at": parked.failed_at.isoformat(), "error": parked.error, "letter": letter}


@app.command("list")
def list_(bootstrap: Bootstrap = None, service: Service = None, topic: Topic = None, as_json: Json = False) -> None:
    """Per dead-letter topic: letters waiting and replayed, oldest and newest, errors grouped."""
    from contracts import utcnow
    from horizon.dlq.letters import age, summarise

    _, (letters, log) = _read(bootstrap)
    keep = _filters(service, topic, None, None)
    summaries = summarise([p for p in letters if keep.keep(p)], log)
    now = utcnow()
    if as_json:
        typer.echo(json.dumps({"parked": sum(s.parked for s in summaries), "topics": [
            {"dead_letter_topic": s.dead_letter_topic, "topic": s.topic, "service": s.service, "parked": s.parked,
             "replayed": s.replayed, "oldest": s.oldest.isoformat() if s.oldest else None,
             "newest": s.newest.isoformat() if s.newest else None,
             "errors": [{"error": e, "count": n} for e, n in s.errors]} for s in summaries]}, indent=2))
        return
    if not summaries:
        typer.echo("no dead letters" + (" for these filters" if service or topic else ": nothing was ever parked"))
        return
    for s in summaries:
        typer.echo(f"{s.dead_letter_topic}  parked {s.parked}  replayed {s.replayed}  "
                   f"oldest {age(s.oldest, now)}  newest {age(s.newest, now)}")
        for error, count in s.errors:
            typer.echo(f"  {count:>6}  {error}")
    typer.echo(f"{sum(s.parked for s in summaries)} letters waiting")


@app.command()
def show(bootstrap: Bootstrap = None, service: Service = None, topic: Topic = None, error: Error = None,
         since: Since = None, limit: Annotated[int, typer.Option("--limit", min=1, help="Most letters to print.")] = 20,
         replayed: Annotated[bool, typer.Option("--replayed", help="Include letters already replayed.")] = False,
         as_json: Json = False) -> None:
    """The waiting letters, newest first, with their errors and bodies."""
    from contracts import utcnow
    from horizon.dlq.letters import age

    _, (letters, log) = _read(bootstrap)
    keep = _filters(service, topic, error, since)
    chosen = sorted((p for p in letters if keep.keep(p) and (replayed or not log.has(p))),
                    key=lambda p: p.failed_at, reverse=True)
    shown, more = chosen[:limit], max(0, len(chosen) - limit)
    if as_json:
        typer.echo(json.dumps({"letters": [{**_letter_json(p), "replayed": log.has(p)} for p in shown],
                               "more": more}, indent=2))
        return
    now = utcnow()
    for p in shown:
        letter = p.letter
        where = f"{letter.topic} {letter.partition}/{letter.offset}" if letter else p.topic
        typer.echo(f"{p.place}  {p.service}  parked {age(p.failed_at, now)} ago  from {where}"
                   f"  key={letter.key if letter else p.key}  tries={letter.attempts if letter else '-'}"
                   f"{'  (replayed)' if log.has(p) else ''}")
        typer.echo("  error:  " + "\n          ".join(p.error.splitlines()))
        if letter is not None:
            if letter.reason:
                typer.echo(f"  reason: {letter.reason}")
            body = letter.body if len(letter.body) <= 300 else letter.body[:300] + "…"
            typer.echo(f"  body:   {body}")
    if not shown:
        typer.echo("no letters match")
    if more:
        typer.echo(f"… {more} more (raise --limit to see them)")


@app.command("replay")
def replay_(bootstrap: Bootstrap = None, service: Service = None, topic: Topic = None, error: Error = None,
            since: Since = None,
            dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be sent; send nothing.")] = False,
            as_json: Json = False) -> None:
    """Republish waiting letters to their original topics; each letter is sent once, ever."""
    from horizon.dlq.broker import replay
    from horizon.dlq.letters import to_replay

    address, (letters, log) = _read(bootstrap)
    keep = _filters(service, topic, error, since)
    chosen = to_replay(letters, log, keep)
    skipped = sum(1 for p in letters if keep.keep(p) and log.has(p))
    if not dry_run and chosen:
        try:
            asyncio.run(replay(address, chosen))
        except Exception as exc:
            typer.echo(f"replay failed: {type(exc).__name__}: {exc} (letters not recorded as replayed are sent "
                       "again next time)", err=True)
            raise typer.Exit(1) from exc
    if as_json:
        typer.echo(json.dumps({"dry_run": dry_run, "replayed": [] if dry_run else [_letter_json(p) for p in chosen],
                               "would_replay": [_letter_json(p) for p in chosen] if dry_run else [],
                               "already_replayed": skipped}, indent=2))
        return
    verb = "would replay" if dry_run else "replayed"
    for p in chosen:
        typer.echo(f"{verb} {p.place} -> {p.letter.topic} key={p.letter.key}  ({p.error.splitlines()[0][:100]})")
    typer.echo(f"{verb} {len(chosen)} letters; {skipped} already replayed before")
