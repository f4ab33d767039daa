"""``uvicorn hojre.web_v1.asgi:app``: the app built from the environment."""

from hojre.web_v1.app import create_app

app = create_app()
