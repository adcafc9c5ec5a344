"""Daily rollups of metric samples, kept by the writer and read by day-or-coarser answers."""
