"""Knowing when data stops arriving: automations, freshness, gaps, advice, alerts, set-up."""
