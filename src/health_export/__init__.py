"""health-export: a self-hosted home for Apple Health data."""

__version__ = "0.1.0"
