"""Fleetman services: one package per service, plus the local stack manager (`services.stack`)."""
