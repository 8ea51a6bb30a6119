"""The demo factory that `make run` loads: Meridian Aerostructures, three sites that name the same work
differently, with people in every role, parts with released routings and travelers in every state.

`manage.py seed_demo` loads it (`seed.demo_seed`); `manage.py seed_adapters` (integrations) then
configures the adapters beside the legacy MES simulator. What is where:

    sites.py            sites, work centers, operations and each site's legacy codes for them
    people.py           the demo logins (one password for all), their roles and qualifications
    characteristics.py  what a routing step measures, and the shorthands the parts are written with
    pictures.py         generated images: the instruction drawings, the photo an operator takes
    routings.py         the shape of a part and its routing (PartSpec, StepSpec)
    parts/              the six demo parts by the site that makes them, and PARTS in loading order
    work_orders.py      the work orders, as the legacy MES released them (or as made in Traveler)
    seed.py             demo_seed: the whole load, in dependency order, in one transaction
    seed_report.py      what a run did per kind of row, and the idempotent upsert behind it
    seed_masterdata.py  loading sites, operations, users, parts, routings, qualifications, work orders
    seed_travelers.py   the demo travelers, made through the traveler services

The data modules are plain data (no model imports): the simulator of the legacy MES reads them too.
"""
