"""Fixtures of the agent tests; the shared functions they use are in `tests.agents.helpers`."""

import pytest

from tests.agents import helpers


@pytest.fixture
def make_replay():
  """`make_replay(environment, config)` -> a `helpers.Replay`, its server stopped after the test."""
  replays = []

  def make(environment, config):
    replay = helpers.Replay(environment, config)
    replays.append(replay)
    return replay

  yield make
  for replay in replays:
    replay.server.stop()
