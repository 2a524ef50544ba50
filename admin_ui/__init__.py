"""The embedded merchant panel and the JSON API it calls."""
