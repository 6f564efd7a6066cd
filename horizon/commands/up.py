"""`horizon up`: the four services against Kafka on one machine."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from contracts.topics import SERVICES
from horizon import kafka_local
from horizon import up as stack


def up(
    state: Path = typer.Option(Path("var/up"), "--state", help="Folder for the services' databases, index and outbox."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address the HTTP apps listen on."),
    port_base: int = typer.Option(8001, "--port-base", help="ingest API, classify API, librarian UI, links: base..base+3; the relay's and the scheduler's metrics: base+4, base+5."),
    admin_email: str = typer.Option("admin@horizon.localhost", "--admin-email", help="The first librarian (an admin)."),
) -> None:
    """Run the four services against Kafka (the local broker unless HORIZON_KAFKA_BOOTSTRAP_SERVERS is set).

    On the local broker (secure by default) each service signs in as its own principal, with the
    password `horizon kafka start` made for it; another broker is reached as the HORIZON_KAFKA_*
    variables say, the same for every service."""
    from services.common.kafka_settings import KafkaSettings

    bootstrap = os.environ.get("HORIZON_KAFKA_BOOTSTRAP_SERVERS")
    principals: dict[str, dict[str, str]] = {}
    if not bootstrap:
        settings = kafka_local.KafkaLocalSettings()
        if not kafka_local.status(settings).running:
            started = kafka_local.start(settings)
            if not started.ok:
                typer.echo(started.message, err=True)
                raise typer.Exit(1)
        bootstrap = settings.bootstrap
        admin = kafka_local.principal_settings(settings)
        principals = {service: kafka_local.principal_environment(settings, service) for service in SERVICES}
    else:
        admin = KafkaSettings()
    kafka_local.ensure_topics(admin)
    state = state.resolve()
    ports = stack.Ports.from_base(port_base)
    env = stack.environment(state, bootstrap, host, ports, admin_email)
    stack.prepare(state, admin_email)
    typer.echo(f"Kafka at {bootstrap} ({admin.security_protocol}); state in {state}")
    typer.echo(f"Librarian UI:  http://{host}:{ports.subscriptions}/  (sign in as {admin_email};")
    typer.echo(f"               the password is admin_password in {state / 'secrets.json'})")
    typer.echo(f"Sources API:   http://{host}:{ports.ingest}/sources  (Authorization: Bearer <ingest_api_key>)")
    typer.echo(f"Preview API:   http://{host}:{ports.classify}/preview  (Authorization: Bearer <classify_api_key>)")
    typer.echo(f"Links:         http://{host}:{ports.notify}/healthz")
    typer.echo(f"Metrics:       /metrics and /ready on each of those, and on http://{host}:{ports.subscriptions_metrics} "
               f"(outbox relay) and http://{host}:{ports.notify_metrics} (scheduler)")
    typer.echo("Ctrl-C stops everything.")
    raise typer.Exit(stack.supervise(stack.processes(host, ports), env, Path.cwd(), kafka=principals))
