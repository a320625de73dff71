"""The HTTP shell: FastAPI routers over the store and the submit functions."""

from veil.service.api.app import create_app

__all__ = ["create_app"]
