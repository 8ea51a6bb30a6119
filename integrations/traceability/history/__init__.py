"""The generator behind `manage.py generate_history`: a realistic large history for measuring the
traceability search, in minutes, into an EMPTY scratch database (the command refuses the development
database 'traveler' and any database that already has travelers; bench/trace.py creates and drops one):

- master data through the services (`masterdata`): three sites with their own codes for the same
  operations (coating is CT1 at WIC, Coat1 at TLS, Coating-1 at HAM), work centers, 20 part families
  (one a block in a run of fewer blocks) of four parts each — a purchased raw-material lot, a bushing
  lot, a pin, a sub-assembly, an assembly — with released routings of five steps whose characteristics
  carry limits, and components per step;
- in blocks of 1,000 travelers (`entities`; smaller in a run of fewer than 10,000: `shape.sizes`): 10 %
  bushing lots, 45 % pins (each cut from a raw-material lot), 30 % sub-assemblies (a pin and two bushings
  from a lot each), 15 % assemblies (a sub-assembly and a pin); each kind at a site of its own, so
  genealogy crosses sites; the newest 2 % (at least one block) still in work;
- items, travelers, work orders and consumptions are computed in Python and loaded with COPY
  (psycopg); the per-step fan-out (`fan_out`) — steps, characteristics, values (about 1 % out of spec,
  some corrected), signatures, NCRs — is generated inside PostgreSQL by set-based INSERT … SELECT;
- 30 % of the travelers closed more than two years ago are archived (`archive`: ArchiveRecord), and
  --archived-only adds travelers that have left the live database (records only), whose measurement
  facts go to the data lake under --lake as Parquet (DuckDB), as integrations.archive lays them out;
- then signatures and audit chains are sealed with the integrity key, as the services would have
  (`sealing`, in processes, by integrations.traceability.history_seal).

`load.generate` runs the stages in order: secondary indexes are dropped for the load and rebuilt after
it; triggers (foreign keys, append-only guards) are off for this session only (session_replication_role
= replica, which needs a superuser): the generator keeps referential integrity itself. What the factory
looks like is in `shape`; what one run knows as it goes, in `run.HistoryRun`.
"""
