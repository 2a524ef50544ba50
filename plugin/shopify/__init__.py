"""The store platform: the one Admin API client, OAuth and token-exchange grants, tokens at
rest, session tokens, the query HMAC, and discount creation. Nothing here knows loyalty rules."""
