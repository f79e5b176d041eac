"""Background work, above the domain. The machinery knows nothing of what a job does: a
connection held open and reconnected for as long as the process runs (live updates listen
on one, the worker lock is held on another), worker liveness by advisory lock, and the
polling worker. The mail worker (mail) and the media worker (media/) are built on it."""
