"""The admin engineers keep master data with.

Writes that have a service go through it: new routings, steps, characteristics, instruction
attachments and aliases, releasing, new revisions, mapping a queued code. A domain error a service
raises rolls the whole save back and the form comes back with the message beside the field it names.
Released (and retired) routings, with their steps and characteristics, are view-only.

    base              what the admins share (service errors as form errors, service-backed inlines, drafts)
    sites             sites and work centers
    codes             operations, their aliases, the unmapped-code queue
    parts             parts, part aliases, part revisions
    routings          routings: drafts, release and obsolescence through change control, new revisions
    routing_content   steps and characteristics, with the step's inlines
    qualifications    qualifications

Importing a module registers its admins with the admin site; Django's autodiscovery imports this package.
"""

from . import codes, parts, qualifications, routing_content, routings, sites

__all__ = ["codes", "parts", "qualifications", "routing_content", "routings", "sites"]
