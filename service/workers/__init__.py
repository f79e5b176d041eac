"""The machinery of background work, below the domain: a connection held open and
reconnected for as long as the process runs (live updates listen on one, the worker lock is
held on another), and worker liveness by advisory lock. Nothing here knows what a job
does."""
