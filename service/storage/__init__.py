"""Object storage and media work, below the domain: object keys and the URLs they are shown
at (urls), the storage backends, local disk or S3 (backends), the spool uploads stream into
(spool), and recording a media job in the caller's unit of work (queue). Nothing here
renders an image or knows a request."""
