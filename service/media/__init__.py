"""Photo and avatar uploads: streaming and checking multipart uploads (upload), creating a
post from such a form (posting) and serving stored images under /media/ (serve)."""
