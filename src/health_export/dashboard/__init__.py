"""The built-in dashboard: HTML pages and static assets served at `/`, and their read API."""
