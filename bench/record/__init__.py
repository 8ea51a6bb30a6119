"""The record bench's parts (bench/record_measurements.py runs them): the scratch database and what
the tablets work on (data), the load driver and soak (load), the raw psycopg floor (floor), and what is
read from /proc about the processes measured (procs)."""
