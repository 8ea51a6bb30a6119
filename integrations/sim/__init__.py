"""Simulators of the shop around Traveler: the legacy MES, OPC UA gauges, machines publishing their state."""
