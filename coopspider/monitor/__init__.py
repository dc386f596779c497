"""Runs after a crawl on the database: diff, report and alerts.

Each follows one shape: a loader (`load_*`, `find_*`, taking a session) reads the archive at the
edge; a builder (`build_*`) turns what was loaded into a report with pure functions; a renderer
lays the report out as text or HTML with the words of `vocabulary`. Only the alert job
(`alert_job`) also writes: it claims, sends and marks batches.
"""
