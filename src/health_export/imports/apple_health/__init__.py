"""Apple Health's "Export All Health Data" archive, stored like the live HAE feed.

``archive`` opens the zip (or a bare export.xml), ``xml_stream`` reads export.xml as a
stream of top-level elements, ``mapping``/``units`` say where each HealthKit type goes
and in which unit, ``records``/``workouts``/``ecg``/``gpx`` build rows in the writer's
layout, and ``importer`` runs it all through the ingest writer.
"""
