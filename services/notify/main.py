"""Entry points: `faststream run services.notify.main:app` and `uvicorn services.notify.main:api` (links)."""

from services.notify.app import create_app, create_links_api

app = create_app()
api = create_links_api()
