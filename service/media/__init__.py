"""Photos and avatars: streaming uploads (upload), checking and rendering images (images),
and the jobs that process and store them (jobs). Object storage, keys and the job queue are
in service/storage."""
