"""The parts of ``bench/load.py``.

- ``vegeta``: running vegeta attacks, reading its reports and results;
- ``stats``: the pure computations (sustained rate, recovery time, stalls, lost and duplicated);
- ``output``: progress, markdown, where the CPU went;
- ``web``: the HTTP scenarios on the running stack (live-map, step, burst);
- ``tracks``: vehicles around Sheffield and when they report;
- ``own``: what day-of-data starts for itself, and its cleanup;
- ``day``, ``arrivals``: day-of-data (pre-fill, reads, lookups; ingest, new vehicles).
"""
