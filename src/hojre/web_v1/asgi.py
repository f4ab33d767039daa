"""``uvicorn hojre.web_v1.asgi:app``: the app built from the environment.

``logged_app`` is the same app writing its own access log (tokens redacted, see
:class:`hojre.core.logging.AccessLog`): what ``hojre serve`` runs, with uvicorn's access log off.
Under another server, serve ``logged_app`` with that server's access log off.
"""

from hojre.core.logging import AccessLog
from hojre.web_v1.app import create_app

app = create_app()
logged_app = AccessLog(app)
