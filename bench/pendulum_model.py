"""Benchmark of the learned model on Pendulum-v1: does the dynamics learn the torque's effect?

The search can rank sampled torques only by the model's Q(s, a) = reward + discount * value
after the dynamics. This trains the network of `continuous_control()` (with
`--config_overrides`) offline, without search or acting, and compares that Q with the one the
real dynamics gives: the real reward plus the discounted value the same network predicts for
the real next observation (Pendulum's state is set in the simulator). Over 128 states, for 8
torques spread over [-1, 1]:
  model_real_corr   mean correlation across the 8 torques of the model's Q with the real one
                    (1: the model ranks the torques as the real dynamics would);
  spread_model      mean max - min of the model's Q over the 8 torques;
  spread_real       the same with the real dynamics (what the value head can resolve).
Data: 40 episodes of 1,000 steps (seeds 0..39) under uniformly random torques; targets: the
real rewards and Monte Carlo discounted returns (first 500 steps of each episode, so that the
cut at 1,000 weighs at most discount^500); loss: the MuZero value and reward losses over the
preset's unroll plus its consistency loss (`consistency_space`), no policy loss; Adam at the
preset's rate and batch.

  python -m bench.pendulum_model [--steps=3000] [--report_every=1000]
      [--config_overrides="consistency_space='projection'"] [--json]
"""

import json
import os
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import gymnasium  # pylint: disable=g-import-not-at-top,wrong-import-position
import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position
from absl import flags  # pylint: disable=g-import-not-at-top,wrong-import-position
from dm_env import specs  # pylint: disable=g-import-not-at-top,wrong-import-position

from agents.muzero import config as config_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from agents.muzero import losses  # pylint: disable=g-import-not-at-top,wrong-import-position
from bench import harness  # pylint: disable=g-import-not-at-top,wrong-import-position
from networks import consistency  # pylint: disable=g-import-not-at-top,wrong-import-position
from networks import muzero  # pylint: disable=g-import-not-at-top,wrong-import-position

NUM_EPISODES, EPISODE_LENGTH, TRAINED_STEPS = 40, 1000, 500
NUM_STATES, NUM_TORQUES = 128, 8
MAX_TORQUE = 2.0  # Pendulum-v1's bound; the network's actions are in [-1, 1].


def define_flags() -> None:
  """The command line of `python -m bench.pendulum_model`."""
  flags.DEFINE_integer('steps', 3000, 'Learner steps.', lower_bound=1)
  flags.DEFINE_integer('report_every', 1000, 'Learner steps between two measurements.',
                       lower_bound=1)
  harness.define_config_overrides_flag('continuous_control', 'consistency_space=projection')
  harness.define_json_flag(summary=False)


def _random_torque_data(environment, discount: float, rng: np.random.Generator):
  """(observations [E, T, 3], actions [E, T] in [-1, 1], rewards [E, T], returns [E, T])."""
  observations, actions, rewards = [], [], []
  for episode in range(NUM_EPISODES):
    observation, _ = environment.reset(seed=episode)
    episode_actions = rng.uniform(-1.0, 1.0, EPISODE_LENGTH).astype(np.float32)
    for action in episode_actions:
      observations.append(observation)
      observation, reward, *_ = environment.step(np.array([MAX_TORQUE * action], np.float32))
      rewards.append(reward)
    actions.append(episode_actions)
  shape = (NUM_EPISODES, EPISODE_LENGTH)
  rewards = np.asarray(rewards, np.float32).reshape(shape)
  returns = np.zeros_like(rewards)
  following = np.zeros(NUM_EPISODES, np.float32)
  for step in reversed(range(EPISODE_LENGTH)):
    following = rewards[:, step] + discount * following
    returns[:, step] = following
  return (np.asarray(observations, np.float32).reshape(shape + (3,)), np.stack(actions),
          rewards, returns)


def _compare_with_real_dynamics(network, environment, states, discount: float):
  """(model_real_corr, spread_model, spread_real) over `states` (see the module docstring)."""
  torques = np.linspace(-1.0, 1.0, NUM_TORQUES).astype(np.float32)[:, None]
  correlations, model_spreads, real_spreads = [], [], []
  for state in states:
    root = network.initial_inference(np.repeat(state[None], NUM_TORQUES, axis=0))
    model = network.recurrent_inference(root.latent, tf.constant(torques))
    model_q = model.reward.numpy() + discount * model.value.numpy()
    next_observations, real_rewards = [], []
    for torque in torques:
      environment.state = np.array([np.arctan2(state[1], state[0]), state[2]], np.float64)
      next_observation, reward, *_ = environment.step(MAX_TORQUE * torque)
      next_observations.append(next_observation)
      real_rewards.append(reward)
    real_q = np.asarray(real_rewards) + discount * network.initial_inference(
        np.asarray(next_observations, np.float32)).value.numpy()
    correlations.append(np.corrcoef(model_q, real_q)[0, 1])
    model_spreads.append(np.ptp(model_q))
    real_spreads.append(np.ptp(real_q))
  return float(np.mean(correlations)), float(np.mean(model_spreads)), float(np.mean(real_spreads))


def main(args) -> None:
  harness.limit_threads(1)
  harness.warn_unless_pinned('bench.pendulum_model')
  print(f'command: {harness.command_line("bench.pendulum_model", pinned=True)}', flush=True)
  config = config_lib.with_overrides(config_lib.continuous_control(), args.config_overrides)
  if config.consistency_loss_weight <= 0:
    raise ValueError('bench.pendulum_model compares consistency losses; consistency_loss_weight='
                     f'{config.consistency_loss_weight} is not allowed; allowed: > 0.')
  rng = np.random.default_rng(0)
  environment = gymnasium.make('Pendulum-v1').unwrapped
  observations, actions, rewards, returns = _random_torque_data(environment, config.discount, rng)
  tf.random.set_seed(0)
  network = muzero.MuZeroNetwork(specs.Array((3,), np.float32), None, config.network,
                                 action_size=1)
  network.create_variables()
  heads = consistency.make_heads(config.consistency_space, config.consistency_projection_size,
                                 network.latent_shape)
  variables = list(network.trainable_variables) + list(
      heads.trainable_variables if heads is not None else [])
  optimizer = tf.keras.optimizers.Adam(config.learning_rate)
  unroll = config.unroll_steps

  @tf.function
  def train(observation, action, reward, value, later):
    with tf.GradientTape() as tape:
      unrolled = losses.unroll(network, observation, action[..., None])
      no_policy = tf.zeros_like(unrolled.value_logits[..., :1])
      loss = losses.muzero_loss(unrolled.value_logits, unrolled.reward_logits, no_policy, value,
                                reward, no_policy, tf.zeros_like(value), tf.ones_like(value[:, 0]))
      predicted = tf.reshape(tf.stack(unrolled.latents[1:], axis=1),
                             [-1] + list(network.latent_shape))
      target = network.initial_inference(tf.reshape(later, [-1, 3])).latent
      consistency_loss = tf.reduce_mean(consistency.per_sample_loss(predicted, target, heads))
      total = loss.loss + config.consistency_loss_weight * consistency_loss
    optimizer.apply_gradients(zip(tape.gradient(total, variables), variables))

  states = observations[:, :TRAINED_STEPS].reshape(-1, 3)[
      rng.choice(NUM_EPISODES * TRAINED_STEPS, NUM_STATES, replace=False)]
  start = time.time()
  for step in range(1, args.steps + 1):
    episodes = rng.integers(0, NUM_EPISODES, config.batch_size)
    rows = rng.integers(0, TRAINED_STEPS, config.batch_size)[:, None] + np.arange(unroll + 1)
    train(observations[episodes, rows[:, 0]], actions[episodes[:, None], rows[:, :unroll]],
          rewards[episodes[:, None], rows[:, :unroll]], returns[episodes[:, None], rows],
          observations[episodes[:, None], rows[:, 1:]])
    if step % args.report_every == 0 or step == args.steps:
      correlation, model_spread, real_spread = _compare_with_real_dynamics(
          network, environment, states, config.discount)
      row = {'consistency_space': config.consistency_space, 'learner_steps': step,
             'model_real_corr': round(correlation, 3), 'spread_model': round(model_spread, 2),
             'spread_real': round(real_spread, 2), 'wall_s': round(time.time() - start, 1)}
      print(json.dumps(row) if args.json else row, flush=True)


if __name__ == '__main__':
  harness.run(define_flags, main)
