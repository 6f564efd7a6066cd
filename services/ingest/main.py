"""Entry point: `faststream run services.ingest.main:app`."""

from services.ingest.app import create_app

app = create_app()
