"""API keys for merchants' scripts (SPEC "Merchants' scripts"): the key store (`store.py`)
and the per-key rate limit (`rate.py`). The web edge that reads the `Authorization` header
is admin_ui/auth.py; the panel's `/api/keys` routes are admin_ui/api_keys.py."""
