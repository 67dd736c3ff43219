"""Scenario files shipped with labecon, runnable by name."""
