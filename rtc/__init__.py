"""Consultations: ``/consult`` signalling, rooms and aiortc roles (the consultations issue)."""
