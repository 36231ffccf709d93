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

import argparse
import dataclasses
import json
import os
import sys
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from bench import learner as learner_bench  # pylint: disable=g-import-not-at-top,wrong-import-position
from launch import pinned_stack  # pylint: disable=g-import-not-at-top,wrong-import-position


def random_games(environment, num_games: int, rng, adder=None):
  """Plays `num_games` random games; returns [(observation, OpenSpiel state)] of every decision.

  With an adder, the games go to the replay as the actor would write them.
  """
  import numpy as np  # pylint: disable=g-import-not-at-top
  positions = []
  num_actions = environment.action_spec().num_values
  for _ in range(num_games):
    timestep = environment.reset()
    if adder is not None:
      adder.add_first(timestep)
    while not timestep.last():
      legal = np.flatnonzero(timestep.observation['legal_actions'])
      positions.append((timestep.observation, environment.state.clone()))
      action = rng.choice(legal)
      timestep = environment.step(action)
      if adder is not None:
        policy = np.zeros(num_actions, np.float32)
        policy[legal] = 1.0 / len(legal)
        adder.add(np.int32(action), timestep, {'search_policy': policy,
                                               'root_value': np.float32(0.0)})
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


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--game', default='tic_tac_toe', help='OpenSpiel two-player game')
  parser.add_argument('--head_channels', default='2,32',
                      help='comma-separated widths of the heads\' 1x1 convolution to compare')
  parser.add_argument('--games', type=int, default=3000, help='random games in the replay')
  parser.add_argument('--probe_games', type=int, default=300, help='held-out random games')
  parser.add_argument('--steps', type=int, default=3000, help='learner steps per model')
  parser.add_argument('--eval_every', type=int, default=500)
  parser.add_argument('--threads', type=int, default=1)
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--json', action='store_true', help='make the last stdout line a JSON summary')
  args = parser.parse_args()
  try:
    widths = [int(width) for width in args.head_channels.split(',')]
  except ValueError:
    parser.error(f'--head_channels={args.head_channels!r} is not allowed; allowed: comma-separated '
                 'ints >= 1, e.g. 2,32.')
  if min(widths) < 1 or min(args.games, args.probe_games, args.steps, args.eval_every) < 1:
    parser.error('--head_channels, --games, --probe_games, --steps and --eval_every must be >= 1.')
  learner_bench.limit_threads(args.threads)
  print(f'command: python -m bench.board_model {" ".join(sys.argv[1:])}'.rstrip(), flush=True)
  summary = {width: measure(args.game, width, args)[-1] for width in widths}
  print(('' if args.json else 'summary: ') + json.dumps(summary), flush=True)
  # The agent's Reverb dataset iterators could block interpreter teardown.
  pinned_stack.exit_without_teardown(0)


if __name__ == '__main__':
  main()
