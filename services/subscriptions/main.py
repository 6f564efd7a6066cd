"""Entry points: `faststream run services.subscriptions.main:app` and `uvicorn services.subscriptions.main:api`."""

from services.subscriptions.app import create_api, create_app

app = create_app()
api = create_api()
