"""The loyalty app; `flask --app plugin ...` finds `create_app` here."""
from plugin.app import create_app

__all__ = ["create_app"]
