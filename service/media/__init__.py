"""Photos and avatars: streaming uploads (upload), checking and rendering images (images),
object storage (storage, urls), and the durable jobs that process and store them (queue,
jobs)."""
