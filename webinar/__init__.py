"""webinar: a self-hosted live webinar platform."""

__version__ = "0.1.0"
