"""The admin API's privacy routes: the customer data exports merchants must hand over."""
from flask import Blueprint

bp = Blueprint("privacy_api", __name__, url_prefix="/api")
