"""Environments as dm_env: gymnasium, Atari (ale-py), OpenSpiel board games and the user's own."""

from environments.factory import make_environment
