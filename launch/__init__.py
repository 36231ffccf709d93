"""Launchpad programs of distributed MuZero and their entry points."""
