"""The REST API and console, served by one ASGI app."""
