"""The package version, in one place (read by cassettes, exports and provenance)."""

__version__ = "0.1.0"
