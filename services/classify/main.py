"""Entry point: `faststream run services.classify.main:app`."""

from services.classify.app import create_app

app = create_app()
