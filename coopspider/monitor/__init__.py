"""Runs after a crawl on the database: diff, report and alerts, built from pure functions."""
