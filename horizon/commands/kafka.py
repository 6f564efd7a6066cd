"""`horizon kafka start|stop|status`: the local single-node Apache Kafka broker."""

import typer

app = typer.Typer(help="The local single-node Apache Kafka broker (KRaft), from Maven Central jars.", no_args_is_help=True)
