"""The storefront's app proxy (`/proxy/...`): shopper-facing routes, signature-checked."""
from flask import Blueprint

bp = Blueprint("proxy", __name__, url_prefix="/proxy")
