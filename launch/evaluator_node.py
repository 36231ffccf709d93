"""The evaluator node: the latest weights played greedily, every `period_s` seconds."""

from typing import Callable, Dict, Optional, Tuple

import launchpad as lp
import numpy as np
from acme import specs

from agents.muzero import actor as actor_lib
from agents.muzero import arena
from agents.muzero import builder as builder_lib
from agents.muzero import config as config_lib
from agents.muzero import learning
from agents.muzero import loggers as loggers_lib
from environments import opponents
from launch.node_common import EnvironmentFactory, limit_threads


class EvaluatorNode:
  """Evaluates the latest weights every `period_s` seconds with a greedy actor (no noise, no
  adder) of `num_episodes` environments; the mean result is the program's evaluation return.

  - Single-player environments: one greedy episode per environment; the mean return.
  - Two-player games (`MuZeroBuilder.two_player`, from the environment spec; `arena.game_of`
    gives the pyspiel game the opponent needs): self-play returns say nothing (one side always
    wins), so the agent plays `num_episodes` games against `opponent` (one of
    `environments.opponents.OPPONENTS`; a uniformly random player by default) through
    `agents.muzero.arena`, half as first and half as second player, and the evaluation return is
    its mean score (+1 win, 0 draw, -1 loss). So `--target_eval_return` and the progress line
    keep their meaning: higher is better, 1 wins every game, and against 'minimax' (which never
    loses at small games) 0 means unbeaten.
  """

  def __init__(self, config: config_lib.MuZeroConfig, environment_spec: specs.EnvironmentSpec,
               environment_factory: EnvironmentFactory, variable_server, run_dir: str, seed: int,
               num_episodes: int, period_s: float, num_threads: int = 1,
               opponent: str = 'random'):
    limit_threads(num_threads)
    builder = builder_lib.MuZeroBuilder(config, environment_spec)
    self._environments = [environment_factory(10**6 + seed + index) for index in range(num_episodes)]
    board_game = builder.two_player
    self._game = arena.game_of(self._environments[0]) if board_game else None
    self._opponent = opponents.make_opponent(opponent, self._game, seed) if board_game else None
    self._opponent_name = opponent
    self._actor = builder.make_actor(builder.make_network(), None, variable_source=variable_server,
                                     num_environments=num_episodes, greedy=True, seed=seed,
                                     environment_name=getattr(environment_factory,
                                                              'environment_id', None))
    self._logger = loggers_lib.make_logger('evaluator', run_dir, steps_key=learning.LEARNER_STEPS,
                                           time_delta=0.0, print_fn=None)
    self._period_s = period_s
    self._last: Optional[Tuple[int, float]] = None

  def evaluate(self, should_stop: Optional[Callable[[], bool]] = None
               ) -> Optional[Dict[str, float]]:
    """Evaluates the latest weights once; returns (and logs) the figures.

    `should_stop` is asked before every batched search; once it returns True the evaluation is
    abandoned, nothing is logged and the result is None.
    """
    self._actor.update_and_wait()
    learner_steps = self._actor.learner_steps
    if self._game is None:
      returns = actor_lib.run_one_episode_each(self._actor, self._environments, should_stop)
      if returns is None:
        return None
      figures = {'evaluation_return': float(np.mean(returns)),
                 'evaluation_return_min': float(np.min(returns))}
    else:
      result = arena.play_games(self._actor, self._game, self._opponent, len(self._environments),
                                should_stop)
      if result is None:
        return None
      figures = {'evaluation_return': result.mean_score,
                 'evaluation_return_min': float(min(result.scores))}
      figures.update({f'vs_{self._opponent_name}_{name}': count
                      for name, count in result.counts().items()})
    self._last = (learner_steps, figures['evaluation_return'])
    figures[learning.LEARNER_STEPS] = learner_steps
    self._logger.write(figures)
    return figures

  def run(self):
    # Checked between searches too, so that a stop does not wait for the end of an episode.
    stop_requested = lambda: lp.wait_for_stop(0)
    while True:
      self.evaluate(stop_requested)
      if lp.wait_for_stop(self._period_s):
        return

  def last_evaluation(self) -> Optional[Tuple[int, float]]:
    """(learner step of the weights, evaluation return) of the latest evaluation, or None."""
    return self._last
