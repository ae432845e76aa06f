"""URL configurations, one per door: the REST API, the pages, and the pages' own JSON calls."""
