"""Realistic demo data in the SOC's formats and layout (being written)."""
