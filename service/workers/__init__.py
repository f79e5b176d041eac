"""The machinery of background work, below the domain: a connection held open and
reconnected for as long as the process runs (live updates listen on one, the worker lock is
held on another), worker liveness by advisory lock, and the polling worker that mail and
media jobs run on. Nothing here knows what a job does."""
