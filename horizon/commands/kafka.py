"""`horizon kafka start|stop|status|fetch|topics`: the local single-node Apache Kafka broker.

It is secure unless HORIZON_KAFKA_SECURE=false: clients sign in with SASL/SCRAM as a principal
per service (passwords in <state folder>/credentials.json, made at the first start), and ACLs let
each write and read only its own topics; topics are created as `admin`.

Exit codes: 0 done; 1 the action failed (the reason and the broker's log tail are printed);
3 from `status` when the broker is not running (as LSB init scripts do).
"""

from __future__ import annotations

import typer

from horizon import kafka_local

app = typer.Typer(
    help="The local single-node Apache Kafka broker (KRaft), from Maven Central jars.", no_args_is_help=True
)


def _finish(outcome: kafka_local.Outcome) -> None:
    typer.echo(outcome.message, err=not outcome.ok)
    raise typer.Exit(0 if outcome.ok else 1)


@app.command()
def fetch() -> None:
    """Fetch the broker's jars from Maven Central into the cache (once)."""
    _finish(kafka_local.fetch_jars(kafka_local.KafkaLocalSettings()))


@app.command()
def start(topics: bool = typer.Option(True, help="Create the project's topics once it is up.")) -> None:
    """Start the broker in the background and wait until it answers."""
    settings = kafka_local.KafkaLocalSettings()
    outcome = kafka_local.start(settings)
    if outcome.ok and topics:
        for topic, what in kafka_local.ensure_topics(kafka_local.principal_settings(settings)).items():
            typer.echo(f"topic {topic}: {what}")
    if outcome.ok and settings.secure:
        typer.echo(f"credentials (a principal per service, and admin): {settings.credentials_file.resolve()}")
    _finish(outcome)


@app.command()
def stop() -> None:
    """Stop the broker (SIGTERM, then wait)."""
    _finish(kafka_local.stop(kafka_local.KafkaLocalSettings()))


@app.command()
def status() -> None:
    """Say whether the broker runs, with its pid and bootstrap address (exit 3 when stopped)."""
    st = kafka_local.status(kafka_local.KafkaLocalSettings())
    if st.running:
        typer.echo(f"running pid={st.pid} bootstrap={st.bootstrap}")
        raise typer.Exit(0)
    typer.echo(f"stopped bootstrap={st.bootstrap}")
    raise typer.Exit(3)


@app.command()
def topics() -> None:
    """Create the project's topics with their partition counts on the running broker."""
    settings = kafka_local.KafkaLocalSettings()
    for topic, what in kafka_local.ensure_topics(kafka_local.principal_settings(settings)).items():
        typer.echo(f"topic {topic}: {what}")
