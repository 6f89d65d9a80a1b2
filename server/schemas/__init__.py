"""Pydantic schemas of the REST API (XCreate / XUpdate / XPublic), apart from the tables."""
