"""What the page handlers (views/) and the JSON API handlers (api/) share: the actions both
perform and the multipart form that makes a post."""
