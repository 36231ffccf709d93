"""Shared pieces of the agent tests: a tiny config, an in-process replay server, its writing and
sampling, and waits that must end."""

import threading
from typing import Any, Callable

import numpy as np
import reverb
import tensorflow as tf
from acme import specs

import networks
from networks import observations
from agents.muzero import builder as builder_lib
from agents.muzero import config as config_lib
from agents.muzero import replay


def tiny_config(**overrides) -> config_lib.MuZeroConfig:
  """K = 2, n = 2 (sequences of 5 steps), 4 simulations and a network of a few hundred weights."""
  values = dict(
      unroll_steps=2, td_steps=2, num_simulations=4, batch_size=8, min_replay_size=1,
      max_replay_size=1000, prefetch_size=1, optimizer='adam', learning_rate=1e-2,
      network=networks.NetworkConfig(torso='mlp', value_support_size=5, reward_support_size=5,
                                     latent_size=8, mlp_width=16))
  values.update(overrides)
  return config_lib.with_overrides(config_lib.MuZeroConfig(), **values)


class Replay:
  """A builder, its single-process replay server and a client."""

  def __init__(self, environment, config):
    self.spec = specs.make_environment_spec(environment)
    self.builder = builder_lib.MuZeroBuilder(config, self.spec)
    self.server = reverb.Server(self.builder.make_replay_tables(single_process=True), port=None)
    self.address = f'localhost:{self.server.port}'
    self.client = reverb.Client(self.address)

  def size(self) -> int:
    return self.client.server_info()[self.builder.table].current_size

  def sample(self, num_samples: int):
    return list(self.client.sample(self.builder.table, num_samples, emit_timesteps=False,
                                   unpack_as_table_signature=True))

  def sample_every_item(self, num_items: int, max_samples: int = 20_000, round_size: int = 100):
    """`sample_every_item` of this replay's table."""
    return sample_every_item(self.client, self.builder.table, num_items, max_samples, round_size)


def sample_every_item(client, table: str, num_items: int, max_samples: int = 20_000,
                      round_size: int = 100):
  """Samples `table` in rounds until `num_items` distinct items were drawn; returns every sample.

  Reverb seeds its sampler from the OS, so a fixed number of draws misses an item of low
  probability now and then (one in 40 draws missed by 300 draws about once in 600 runs).
  Drawing until every item was seen makes the outcome certain; an item that never comes within
  `max_samples` is a failure, not bad luck.
  """
  samples, keys = [], set()
  while len(keys) < num_items:
    assert len(samples) < max_samples, (
        f'{len(keys)} of {num_items} items seen in {len(samples)} samples')
    samples.extend(client.sample(table, round_size, emit_timesteps=False,
                                 unpack_as_table_signature=True))
    keys.update(int(sample.info.key) for sample in samples[-round_size:])
  assert len(keys) == num_items, f'{len(keys)} distinct items, expected {num_items}'
  return samples


def set_value_bias(network, value: float):
  """Makes the network predict a non-zero value everywhere (fresh networks predict exactly 0)."""
  bias = [v for v in network.prediction.variables if 'value' in v.name and v.name.endswith('b:0')]
  assert len(bias) == 1, [v.name for v in network.prediction.variables]
  logits = np.zeros(bias[0].shape, np.float32)
  logits[-1] = value
  bias[0].assign(logits)
  tf.debugging.assert_greater(tf.abs(network.initial_inference(
      observations.dummy_observation(network.observation_spec)).value), 0.1)


def write_episode(writer, environment, root_values):
  """Plays one episode of `environment` with action 0, root value root_values[t] at row t."""
  timestep = environment.reset()
  writer.add_first(timestep)
  t = 0
  while not timestep.last():
    timestep = environment.step(0)
    writer.add(np.int64(0), timestep, {'search_policy': np.asarray([0.5, 0.5]),
                                       'root_value': root_values[t], 'weights_version': 7})
    t += 1


def outcome_of_a_wait(work: Callable[[], Any], release: Callable[[], None]) -> Any:
  """What `work` returns or raises, given that it is still waiting 4 stop polls after it starts
  and that `release()` ends its wait within 20 more.

  `work` runs in a daemon thread, so that a wait that does not end fails the test instead of
  hanging the suite.
  """
  outcome = []

  def run():
    try:
      outcome.append(work())
    except Exception as error:  # pylint: disable=broad-except
      outcome.append(error)

  thread = threading.Thread(target=run, daemon=True)
  thread.start()
  thread.join(4 * replay.STOP_POLL_MS / 1000)
  assert thread.is_alive() and not outcome, f'not waiting: {outcome}'
  release()
  thread.join(20 * replay.STOP_POLL_MS / 1000)
  assert not thread.is_alive(), 'still waiting 20 polls after its release'
  return outcome[0]
