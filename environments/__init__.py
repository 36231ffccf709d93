"""Environments as dm_env: gymnasium, Atari (ale-py) and OpenSpiel board games."""

from environments.factory import make_environment
