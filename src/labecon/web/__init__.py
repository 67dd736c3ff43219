"""The web adapter: a REST API (FastAPI) on the run store; the dashboard will join it.

``create_app(store)`` builds the app; ``labecon serve`` runs it with uvicorn.
"""

from labecon.web.app import Limits, create_app

__all__ = ["Limits", "create_app"]
