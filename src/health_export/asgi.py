"""The ASGI application uvicorn serves (`health_export.asgi:app`)."""

from __future__ import annotations

from health_export.main import create_app

app = create_app()
