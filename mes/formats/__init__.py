"""Date-time formats that say their zone (FORMAT_MODULE_PATH): a time in the admin or an export without
its zone is ambiguous across three sites. Only the date-time formats are set here; numbers and dates
keep each language's own (Django's locale formats)."""
