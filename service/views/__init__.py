"""HTML pages, one module per area, each exporting ``routes``."""
