"""The shopper's side, served through the app proxy (`/proxy/...`): the route guard and
routes (`routes.py`) and the page they render (`page.py`, `templates/`)."""
