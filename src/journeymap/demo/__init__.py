"""The demo company: a generator of a realistic B2B SaaS customer base, its maps and `journeymap demo`.

It loads its data through the public ingest API, as any user's export would be loaded;
nothing in `journeymap.data`, the engine or rendering imports it.
"""
