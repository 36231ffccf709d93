"""End to end: the single-process agent learns a task that needs planning, in a few hundred steps."""

import acme
import numpy as np
import pytest
import tensorflow as tf
from acme import specs
from acme.utils import loggers

import networks
from agents.muzero import actor as actor_lib
from agents.muzero import agent as agent_lib
from agents.muzero import config as config_lib
from tests.agents import fakes

# Seeds 1, 2 and 7 solve within 100 learner steps, seed 4 within 400 (measured 2026-12-02); the
# loop stops at the solve, so the generous budget costs only a run that has not learned.
MAX_LEARNER_STEPS = 1500


def planning_config() -> config_lib.MuZeroConfig:
  # n = 3 reaches the end of the 3-step episode; K = 3 unrolls all of it. 25 simulations let the
  # search visit the action its prior dislikes (unvisited actions score Q = 0, as in the paper).
  return config_lib.MuZeroConfig(
      discount=0.99, unroll_steps=3, td_steps=3,
      search=config_lib.SearchConfig(num_simulations=25), batch_size=32,
      min_replay_size=32, samples_per_insert=8.0, prefetch_size=1, optimizer='adam',
      learning_rate=1e-2, weight_decay=0.0, temperature_schedule=((0, 1.0),),
      variable_update_period=1,
      network=networks.NetworkConfig(torso='mlp', value_support_size=5, reward_support_size=5,
                                     latent_size=16, mlp_width=32)).validate()


@pytest.mark.parametrize('seed', [4])  # Also passes with 1 and 7 (slower).
def test_agent_learns_to_plan_past_a_myopic_trap(seed):
  # DelayedRewardChain: first action 0 pays 0.3 at once, first action 1 pays 1.0 two steps later.
  # These seeds start with networks whose search prefers the trap, so the test shows learning.
  tf.random.set_seed(seed)  # Network initialisation.
  environments = [fakes.DelayedRewardChain() for _ in range(4)]
  spec = specs.make_environment_spec(environments[0])
  agent = agent_lib.MuZero(spec, planning_config(), num_environments=4, seed=seed,
                           learner_logger=loggers.NoOpLogger())
  try:
    loop = actor_lib.BatchedEnvironmentLoop(environments, agent, logger=loggers.NoOpLogger())
    evaluator = agent.make_evaluator(num_environments=1)
    start = fakes.DelayedRewardChain().reset().observation

    def greedy_first_action():
      evaluator.update_and_wait()
      action = evaluator.select_actions([start])[0]
      return int(action), evaluator.last_search.q_values[0]

    first_action, _ = greedy_first_action()
    assert first_action == 0, 'the untrained agent should fall for the trap with this seed'

    consecutive_optimal = 0
    while agent.learner_steps < MAX_LEARNER_STEPS and consecutive_optimal < 3:
      loop.run(num_steps=24)
      first_action, q_values = greedy_first_action()
      # Optimal: the delayed 1.0 (worth 0.99^2 = 0.98 at the start) over the immediate 0.3.
      optimal = first_action == 1 and q_values[1] > q_values[0] + 0.3
      consecutive_optimal = consecutive_optimal + 1 if optimal else 0
    assert consecutive_optimal == 3, f'not solved after {agent.learner_steps} learner steps'

    # The greedy policy collects the optimal return in a real episode, through acme's loop.
    evaluation = acme.EnvironmentLoop(fakes.DelayedRewardChain(), evaluator, should_update=False,
                                      logger=loggers.NoOpLogger()).run_episode()
    np.testing.assert_allclose(evaluation['episode_return'], 1.0)
  finally:
    agent.close()
