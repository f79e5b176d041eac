"""The operator's commands (``python -m service admin ...``): what they do, apart from the
command line that calls them."""
