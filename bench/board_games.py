"""Benchmark of the big board games' plumbing: search speed and memory at 800 simulations.

For each game (default Go 9x9 and chess) with its `board_game` preset (16 blocks of 256 channels,
800 simulations, the paper's settings): one actor search per move for B games, timed after its
compilation; the search tree's size in memory; the process's peak resident memory; one learner
step at a small batch; and the bytes of one replay item as stored (`agents.muzero.replay`) against
the full L-row item. Learning these games is out of reach of 2 cores; what is measured is that
the pieces fit and how fast they run. Threads are fixed by --threads.

  python -m bench.board_games [--games='go(board_size=9)',chess] [--batch_size=1] \
      [--learner_batch_size=16] [--threads=2] [--moves=2]
"""

import dataclasses
import itertools
import os
import resource
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position
import reverb  # pylint: disable=g-import-not-at-top,wrong-import-position
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position
from absl import flags  # pylint: disable=g-import-not-at-top,wrong-import-position
from acme import specs  # pylint: disable=g-import-not-at-top,wrong-import-position
from acme.utils import loggers  # pylint: disable=g-import-not-at-top,wrong-import-position

from agents.muzero import builder as builder_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from agents.muzero import config as config_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from bench import harness  # pylint: disable=g-import-not-at-top,wrong-import-position
from environments import make_environment  # pylint: disable=g-import-not-at-top,wrong-import-position


def define_flags() -> None:
  """The command line of `python -m bench.board_games`."""
  flags.DEFINE_string('games', 'go(board_size=9),chess', 'Comma-separated OpenSpiel games.')
  flags.DEFINE_integer('batch_size', 1, 'Games searched at once.', lower_bound=1)
  flags.DEFINE_integer('learner_batch_size', 16, 'Batch of the timed learner step.', lower_bound=1)
  flags.DEFINE_integer('threads', 2, 'TensorFlow threads.', lower_bound=1)
  flags.DEFINE_integer('moves', 2, 'Timed searches per game.', lower_bound=1)


def _games(text: str):
  """Splits on commas outside parentheses: 'go(board_size=9),chess' -> two games."""
  games, depth, current = [], 0, ''
  for char in text:
    depth += {'(': 1, ')': -1}.get(char, 0)
    if char == ',' and depth == 0:
      games.append(current)
      current = ''
    else:
      current += char
  return [game for game in games + [current] if game]


def _peak_rss_gib() -> float:
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # Linux reports KiB.


def measure(game: str, args) -> dict:
  """Search, tree, learner and replay-item figures of one game's preset."""
  config = dataclasses.replace(config_lib.board_game(game), batch_size=args.learner_batch_size)
  environments = [make_environment(f'openspiel:{game}', seed=index)
                  for index in range(args.batch_size)]
  spec = specs.make_environment_spec(environments[0])
  builder = builder_lib.MuZeroBuilder(config, spec)
  network = builder.make_network()
  actor = builder.make_actor(network, num_environments=args.batch_size, seed=0)
  observations = [environment.reset().observation for environment in environments]

  start = time.time()
  actor.select_actions(observations)
  compile_s = time.time() - start
  start = time.time()
  for _ in range(args.moves):
    actions = actor.select_actions(observations)
    observations = [environment.step(action).observation
                    for environment, action in zip(environments, actions)]
  search_s = (time.time() - start) / args.moves

  latent_elements = int(np.prod(network.initial_inference(
      tf.nest.map_structure(lambda x: x[None], observations[0])).latent.shape[1:]))
  num_nodes, num_actions = config.search.num_simulations + 1, spec.actions.num_values
  # Embeddings, plus seven [N] or [N, A] arrays of 4 bytes (see search.tree.Tree).
  tree_bytes = 4 * args.batch_size * num_nodes * (latent_elements + 3 + 4 * num_actions)

  signature = builder.signature()
  item_bytes = sum(spec_.shape.num_elements() * spec_.dtype.size
                   for spec_ in tf.nest.flatten(signature))
  full_rows = config.sequence_length
  full_bytes = sum(spec_.shape[1:].num_elements() * spec_.dtype.size * full_rows
                   for spec_ in tf.nest.flatten(signature))

  # One learner step on a batch shaped like the table's samples (zeros: the cost does not depend
  # on the values), without a replay server.
  batch = tf.nest.map_structure(
      lambda spec_: tf.zeros([args.learner_batch_size] + spec_.shape.as_list(), spec_.dtype),
      signature)
  sample = reverb.ReplaySample(info=_sample_info(args.learner_batch_size), data=batch)
  learner = builder.make_learner(network, itertools.repeat(sample), logger=loggers.NoOpLogger())
  start = time.time()
  learner.step()
  learner_compile_s = time.time() - start
  start = time.time()
  learner.step()
  learner_step_s = time.time() - start
  return {
      'game': game, 'simulations': config.search.num_simulations, 'batch_size': args.batch_size,
      'network': f'{config.network.num_blocks} blocks x {config.network.channels} channels',
      'search_compile_s': round(compile_s, 1), 'search_s_per_move': round(search_s, 2),
      'simulations_per_s': round(config.search.num_simulations * args.batch_size / search_s),
      'tree_mib': round(tree_bytes / 2**20, 1),
      'learner_batch_size': args.learner_batch_size,
      'learner_step_s': round(learner_step_s, 2), 'learner_compile_s': round(learner_compile_s, 1),
      'replay_item_kib': round(item_bytes / 1024, 1),
      'full_item_kib': round(full_bytes / 1024, 1),
      'peak_rss_gib': round(_peak_rss_gib(), 2),
  }


def _sample_info(batch_size: int) -> reverb.SampleInfo:
  """Uniform sampling info for a batch that did not come from a table."""
  return reverb.SampleInfo(key=tf.zeros([batch_size], tf.uint64),
                           probability=tf.fill([batch_size], 1.0 / batch_size),
                           table_size=tf.fill([batch_size], tf.constant(batch_size, tf.int64)),
                           priority=tf.ones([batch_size], tf.float64))


def main(args) -> None:
  harness.limit_threads(args.threads)
  print(f'command: {harness.command_line("bench.board_games")}', flush=True)
  for game in _games(args.games):
    print(measure(game, args), flush=True)


if __name__ == '__main__':
  harness.run(define_flags, main)
