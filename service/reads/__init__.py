"""The read layer: every statement a request runs to show something.

Each statement is complete SQL with explicit ``$n`` placeholders, registered by name in
``statements`` and run only through ``Reader`` on the read pool; each has one function that
turns its rows into views (``views``). Which posts a viewer may see is decided in one place,
``visibility``, and every statement that returns posts is built with it. Writes are
commands in ``service.domain``; they never run here. See docs/architecture.md.
"""
