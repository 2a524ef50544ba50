"""Installing the app: the OAuth authorization-code flow (`/auth/install`, `/auth/callback`)."""
from flask import Blueprint

bp = Blueprint("oauth", __name__)
