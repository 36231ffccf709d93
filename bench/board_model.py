"""Benchmark of the learned model on a board game: does it see winning moves one and two plies ahead?

A search can only block a threat or take a win if the dynamics predicts the reward of the move
that ends the game. This benchmark isolates that from self-play: the replay is filled with games
of uniformly random play (uniform search policies, zero root values, written by the real adder),
the real learner trains on them, and every `--eval_every` steps the model predicts, for held-out
positions of other random games, the reward of each legal move (depth 1) and of a random reply
after it (depth 2). It prints the recall on winning moves (mean predicted reward and the share
above 0.5) and the false alarms on the others, once per `--head_channels` value, in one run.

    python -m bench.board_model --game=tic_tac_toe --head_channels=2,32 --steps=3000

The network is `config.board_game(game)`'s with `head_channels` replaced. TensorFlow uses
`--threads` threads.
"""

import dataclasses
import json
import os
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from absl import app  # pylint: disable=g-import-not-at-top,wrong-import-position
from absl import flags  # pylint: disable=g-import-not-at-top,wrong-import-position

from bench import harness  # pylint: disable=g-import-not-at-top,wrong-import-position
from launch import pinned_stack  # pylint: disable=g-import-not-at-top,wrong-import-position


def random_games(environment, num_games: int, rng, adder=None):
  """Plays `num_games` random games; returns [(observation, OpenSpiel state)] of every decision.

  With an adder, the games go to the replay as the actor would write them.
  """
  positions = []
  record = lambda timestep: positions.append((timestep.observation, environment.state.clone()))
  for _ in range(num_games):
    harness.play_random_episode(environment, rng, adder, on_decision=record)
  return positions


def reward_probes(positions, rng):
  """Depth-1 and depth-2 probes: (observations, actions [B, depth], true mover's rewards [B])."""
  probes = {1: ([], [], []), 2: ([], [], [])}
  for observation, state in positions:
    for action in state.legal_actions():
      child = state.clone()
      mover = child.current_player()
      child.apply_action(action)
      probes[1][0].append(observation)
      probes[1][1].append([action])
      probes[1][2].append(child.returns()[mover] if child.is_terminal() else 0.0)
      if child.is_terminal():
        continue
      reply = int(rng.choice(child.legal_actions()))
      replier = child.current_player()
      child.apply_action(reply)
      probes[2][0].append(observation)
      probes[2][1].append([action, reply])
      probes[2][2].append(child.returns()[replier] if child.is_terminal() else 0.0)
  return probes


def score_model(network, probes) -> dict:
  """Recall of winning moves and false alarms of the model's reward, per depth."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from agents.muzero import actor as actor_lib  # pylint: disable=g-import-not-at-top
  result = {}
  for depth, (observations, actions, rewards) in probes.items():
    actions, rewards = np.asarray(actions, np.int32), np.asarray(rewards)
    latent = network.initial_inference(actor_lib.stack_observations(observations)).latent
    for ply in range(depth):
      output = network.recurrent_inference(latent, tf.constant(actions[:, ply]))
      latent = output.latent
    predicted = output.reward.numpy()
    wins, others = predicted[rewards == 1], predicted[rewards != 1]
    share = lambda values: round(float(np.mean(values)), 3) if values.size else None
    result[f'depth{depth}_win_reward'] = share(wins)
    result[f'depth{depth}_wins_found'] = share(wins > 0.5)
    result[f'depth{depth}_false_alarms'] = share(others > 0.5)
  return result


def measure(game: str, head_channels: int, args) -> list:
  """Trains one model on random games; returns its rows of figures."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from acme import specs  # pylint: disable=g-import-not-at-top
  from acme.utils import loggers  # pylint: disable=g-import-not-at-top
  from agents.muzero import agent as agent_lib  # pylint: disable=g-import-not-at-top
  from agents.muzero import builder as builder_lib  # pylint: disable=g-import-not-at-top
  from agents.muzero import config as config_lib  # pylint: disable=g-import-not-at-top
  from environments import make_environment  # pylint: disable=g-import-not-at-top

  tf.random.set_seed(args.seed)
  rng = np.random.default_rng(args.seed)
  config = config_lib.board_game(game)
  # The replay is filled before the first step, so sampling may start at any size.
  config = dataclasses.replace(
      config, min_replay_size=1,
      network=dataclasses.replace(config.network, head_channels=head_channels))
  environment = make_environment(f'openspiel:{game}', seed=args.seed)
  spec = specs.make_environment_spec(environment)
  agent = agent_lib.MuZero(spec, config, seed=args.seed, learner_logger=loggers.NoOpLogger())
  adder = builder_lib.MuZeroBuilder(config, spec).make_adder(agent.replay_client)
  random_games(environment, args.games, rng, adder)
  adder.close()
  probes = reward_probes(random_games(environment, args.probe_games, rng), rng)
  rows, start = [], time.time()
  for step in range(1, args.steps + 1):
    agent.learner.step()
    if step % args.eval_every == 0 or step == args.steps:
      row = {'head_channels': head_channels, 'learner_steps': step,
             'train_s': round(time.time() - start, 1), **score_model(agent.network, probes)}
      print(json.dumps(row), flush=True)
      rows.append(row)
  agent.close()
  return rows


def define_flags() -> None:
  """The command line of `python -m bench.board_model`."""
  flags.DEFINE_string('game', 'tic_tac_toe', 'OpenSpiel two-player game.')
  flags.DEFINE_list('head_channels', ['2', '32'], "Widths of the heads' 1x1 convolution to "
                    'compare, one model each.')
  flags.DEFINE_integer('games', 3000, 'Random games in the replay.', lower_bound=1)
  flags.DEFINE_integer('probe_games', 300, 'Held-out random games.', lower_bound=1)
  flags.DEFINE_integer('steps', 3000, 'Learner steps per model.', lower_bound=1)
  flags.DEFINE_integer('eval_every', 500, 'Learner steps between two scorings.', lower_bound=1)
  flags.DEFINE_integer('threads', 1, 'TensorFlow threads.', lower_bound=1)
  flags.DEFINE_integer('seed', 0, 'Seeds the games, the network and the learner.')
  harness.define_json_flag(summary=True)


def main(args) -> None:
  try:
    widths = [int(width) for width in args.head_channels]
  except ValueError:
    widths = []
  if not widths or min(widths) < 1:
    raise app.UsageError(f'--head_channels={",".join(args.head_channels)} is not allowed; '
                         'allowed: comma-separated ints >= 1, e.g. 2,32.')
  harness.limit_threads(args.threads)
  print(f'command: {harness.command_line("bench.board_model")}', flush=True)
  summary = {width: measure(args.game, width, args)[-1] for width in widths}
  print(('' if args.json else 'summary: ') + json.dumps(summary), flush=True)
  # The agent's Reverb dataset iterators could block interpreter teardown.
  pinned_stack.exit_without_teardown(0)


if __name__ == '__main__':
  harness.run(define_flags, main)
