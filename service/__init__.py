"""Snapline: a self-hosted photo-and-post sharing service."""
