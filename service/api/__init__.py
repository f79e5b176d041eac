"""The JSON API, /api/snapline/v1: one module per area, each exporting ``routes``."""
