"""Ask it: the Model Context Protocol endpoint (`/mcp`) serving the read API's numbers."""
