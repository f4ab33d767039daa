"""Uploads and images: hostile bytes in, re-encoded images out, one storage interface."""
