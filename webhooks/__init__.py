"""Webhook intake (verify, store, enqueue) and one handler per topic."""
