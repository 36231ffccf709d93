"""The single-process agent takes a user's dm_env as it is: any integer action dtype, float64
rewards, discounts and observations, rank-2 observations."""

import acme
import numpy as np
import pytest
from acme import specs
from acme.utils import loggers

import networks
from agents.muzero import agent as agent_lib
from tests.agents import helpers
from tests.agents import user_environments

LEARNER_STEPS = 3


@pytest.mark.parametrize('make_environment', [
    user_environments.make_int32_environment,
    user_environments.make_int64_float64_environment,
    user_environments.make_uint8_rank2_environment,
], ids=lambda make: make.__name__)
def test_agent_learns_from_environment_of_any_dtypes(make_environment):
  environment = make_environment(0)
  spec = specs.make_environment_spec(environment)
  # torso 'auto' so that the network picks its torso from the (rank-2) observation spec; the
  # target network and consistency loss read replayed observations in the learner's graph.
  config = helpers.tiny_config(
      network=networks.NetworkConfig(value_support_size=5, reward_support_size=5, latent_size=8,
                                     mlp_width=16),
      target_update_period=2, consistency_loss_weight=1.0)
  learner_logger = loggers.InMemoryLogger()
  agent = agent_lib.MuZero(spec, config, learner_logger=learner_logger)
  try:
    loop = acme.EnvironmentLoop(environment, agent, logger=loggers.NoOpLogger())
    while agent.learner_steps < LEARNER_STEPS and agent.num_observations < 400:
      loop.run(num_episodes=5)
    assert agent.learner_steps >= LEARNER_STEPS
    losses = [record['total_loss'] for record in learner_logger.data]
    assert len(losses) >= LEARNER_STEPS and np.all(np.isfinite(losses)), losses

    # env.step got actions of the dtype its spec says, in range.
    action_dtypes = {np.asarray(action).dtype for action in environment.actions}
    assert action_dtypes == {spec.actions.dtype}
    assert all(0 <= int(action) < spec.actions.num_values for action in environment.actions)

    # Replay holds the canonical dtypes: float observations as float32, whatever the user's.
    item = next(iter(agent.replay_client.sample('priority_table', 1, emit_timesteps=False,
                                                unpack_as_table_signature=True))).data
    assert item['observation'].dtype == np.float32
    assert item['observation'].shape[1:] == spec.observations.shape
    assert item['action'].dtype == np.int32
    assert item['reward'].dtype == item['discount'].dtype == np.float32
  finally:
    agent.close()
