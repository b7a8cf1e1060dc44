"""Stub for Dataflow's --setup_file; all metadata lives in setup.cfg."""
from setuptools import setup

setup()
