"""Imports of whole archives made by other tools (Apple Health's export.zip)."""
