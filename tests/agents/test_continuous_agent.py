"""End to end with continuous actions: the single-process agent (Sampled MuZero) through
acme.EnvironmentLoop learns which continuous actions of a one-step task pay."""

import acme
import numpy as np
import tensorflow as tf
from acme import specs
from acme.utils import loggers

import networks
from agents.muzero import agent as agent_lib
from agents.muzero import config as config_lib
from tests.agents import fakes

THRESHOLD = 1.0  # Actions in [1, 2] pay 1, those in [-2, 1) pay 0.


def threshold_config() -> config_lib.MuZeroConfig:
  # Uniform replay (as the CartPole preset) and 32 samples per insert; K = 3 unrolled steps
  # train the model past the terminal, where the search also looks.
  return config_lib.MuZeroConfig(
      discount=0.99, unroll_steps=3, td_steps=3,
      search=config_lib.SearchConfig(num_simulations=30, unvisited_q='parent'), batch_size=32,
      min_replay_size=32, samples_per_insert=32.0, prefetch_size=1, optimizer='adam',
      learning_rate=3e-3, weight_decay=0.0, temperature_schedule=((0, 1.0),),
      variable_update_period=1, num_sampled_actions=6,
      priority_exponent=0.0, importance_sampling_exponent=0.0,
      network=networks.NetworkConfig(torso='mlp', value_support_size=5, reward_support_size=5,
                                     latent_size=16, mlp_width=32)).validate()


def _greedy_paying_share(evaluator, episodes: int = 20) -> float:
  environment = fakes.ContinuousThreshold(THRESHOLD)
  loop = acme.EnvironmentLoop(environment, evaluator, should_update=False,
                              logger=loggers.NoOpLogger())
  evaluator.update_and_wait()
  for _ in range(episodes):
    loop.run_episode()
  return float(np.mean(np.asarray(environment.actions) >= THRESHOLD))


def test_agent_learns_which_continuous_actions_pay_through_the_environment_loop():
  tf.random.set_seed(0)  # Network initialisation.
  environment = fakes.ContinuousThreshold(THRESHOLD)
  spec = specs.make_environment_spec(environment)
  agent = agent_lib.MuZero(spec, threshold_config(), seed=0, learner_logger=loggers.NoOpLogger())
  try:
    evaluator = agent.make_evaluator()
    untrained = _greedy_paying_share(evaluator)
    loop = acme.EnvironmentLoop(environment, agent, logger=loggers.NoOpLogger())
    loop.run(num_episodes=300)
    trained = _greedy_paying_share(evaluator)
    # Every action came back within the environment's bounds, as float64 [1] (the fake asserts
    # both), and the replay's items hold the 6 sampled actions of each of their K + 1 searches.
    assert len(environment.actions) == 300 and agent.learner_steps >= 250
    signature = agent.replay_client.server_info()['priority_table'].signature
    assert signature['sampled_actions'].shape == (4, 6, 1)
    assert untrained < 0.5, f'the untrained agent already pays in {untrained:.0%} of episodes'
    assert trained == 1.0, f'the trained agent pays in only {trained:.0%} of episodes'
  finally:
    agent.close()
