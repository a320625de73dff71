"""veil: find and hide faces in videos and images, offline."""

from importlib import metadata


def version() -> str:
    """The installed veil's version (CHANGELOG.md says what each one holds)."""
    try:
        return metadata.version("veil")
    except metadata.PackageNotFoundError:  # running from a source tree, not installed
        return "unknown"
