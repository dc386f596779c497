# scrapyd-deploy builds its egg with `setup.py bdist_egg` and writes a setup.py of its own when none
# is there; everything is configured in pyproject.toml.
from setuptools import setup

setup()
