"""`products/create`: a new product's facts enter the cache, exactly as `products/update` stores
them (the same REST payload, without collections: see products_update.py)."""
from webhooks.handlers import products_update

parse = products_update.parse
apply = products_update.apply
