"""Matches of a batched agent against a fixed board-game player (`environments.opponents`).

Self-play returns say nothing about the strength of a board-game agent (one side always wins),
so board games are evaluated against fixed opponents instead. `play_games` plays N games at once:
the agent searches ONE batch per ply for all the games still running (what makes a 100-game
match cost about as many searches as one game), while the opponent moves game by game. The agent
plays first (player 0) in games 0, 2, 4, ... and second in games 1, 3, 5, ..., so a match of an
even number of games is half on each side.
"""

import dataclasses
from typing import Any, Callable, Dict, Optional, Tuple, Union

import numpy as np
import pyspiel

from environments import openspiel
from environments import opponents as opponents_lib

SEAT_NAMES = ('first', 'second')


@dataclasses.dataclass(frozen=True)
class MatchResult:
  """What happened in each game of a match, from the agent's side.

  Attributes:
    game: the game's name, e.g. 'tic_tac_toe()'.
    opponent: the opponent's name, e.g. 'minimax'.
    agent_players: per game, the agent's player: 0 (moved first) or 1 (moved second).
    scores: per game, +1 (the agent won), 0 (draw) or -1 (the agent lost).
  """
  game: str
  opponent: str
  agent_players: Tuple[int, ...]
  scores: Tuple[int, ...]

  @property
  def num_games(self) -> int:
    return len(self.scores)

  @property
  def mean_score(self) -> float:
    """Mean of the scores: 1 wins every game, -1 loses every game."""
    return float(np.mean(self.scores))

  def record(self, player: int) -> Tuple[int, int, int]:
    """(wins, draws, losses) over the games where the agent was `player` (0 first, 1 second)."""
    if player not in (0, 1):
      raise ValueError(f'player {player} is not allowed; allowed: 0 (first) or 1 (second).')
    scores = [score for seat, score in zip(self.agent_players, self.scores) if seat == player]
    return scores.count(1), scores.count(0), scores.count(-1)

  def counts(self) -> Dict[str, int]:
    """The records as flat figures for a logger: {'wins_first': ..., 'losses_second': ...}."""
    return {f'{outcome}_{seat}': count
            for player, seat in enumerate(SEAT_NAMES)
            for outcome, count in zip(('wins', 'draws', 'losses'), self.record(player))}

  def __str__(self) -> str:
    rows = [(f'agent {seat}', self.record(player)) for player, seat in enumerate(SEAT_NAMES)]
    rows.append(('total', tuple(map(sum, zip(*(record for _, record in rows))))))
    lines = [f'{self.game}: agent vs {self.opponent}, {self.num_games} games',
             f'{"":14s} {"games":>5s} {"wins":>5s} {"draws":>5s} {"losses":>6s} {"score":>6s}']
    for label, (wins, draws, losses) in rows:
      games = wins + draws + losses
      score = (wins - losses) / games if games else float('nan')
      lines.append(f'{label:14s} {games:5d} {wins:5d} {draws:5d} {losses:6d} {score:+6.2f}')
    return '\n'.join(lines)


def game_of(environment: Any) -> pyspiel.Game:
  """The pyspiel game an environment of a two-player game plays, for the fixed opponents.

  Raises:
    ValueError: `environment` does not say which pyspiel game it plays (a `game` attribute, as
      `environments.openspiel.OpenSpielEnvironment` has); the fixed opponents play only those.
  """
  game = getattr(environment, 'game', None)
  if not isinstance(game, pyspiel.Game):
    raise ValueError(f'{type(environment).__name__} is a two-player game without a pyspiel game; '
                     'matches against fixed opponents (the evaluation of two-player games) need '
                     'an environment with a `game` attribute holding its pyspiel.Game, such as '
                     'the openspiel:... environments (environments.openspiel).')
  return game


def play_games(actor: Any, game: Union[str, pyspiel.Game], opponent: opponents_lib.Player,
               num_games: int,
               should_stop: Optional[Callable[[], bool]] = None) -> Optional[MatchResult]:
  """Plays `num_games` games of `game` between `actor` and `opponent`, in lock-step.

  Nothing here is random: a greedy agent is deterministic, and the opponent's seeded generator
  makes the games differ (and a match reproducible).

  Args:
    actor: a greedy `MuZeroActor` with `num_environments == num_games`, or any object with its
      `select_actions(observations) -> [B] actions`; only `select_actions` is called. Games that
      have ended stay in the batch with the first position's observation and their action is
      ignored. A sampling (non-greedy) actor would play every move at its first move's
      temperature: the arena does not report moves through `observe_at`.
    game: a game or its name for `environments.openspiel.load_two_player_game`.
    opponent: the fixed player, asked for a move whenever it is its turn in a game; it must only
      read the state it is given.
    num_games: N; with an odd N the agent plays first in one game more.
    should_stop: asked before every ply; once it returns True the match is abandoned.

  Returns:
    The agent's seat and score in each game; None if `should_stop` abandoned the match.
  """
  if isinstance(game, str):
    game = openspiel.load_two_player_game(game)
  if num_games < 1:
    raise ValueError(f'num_games={num_games} is not allowed; it must be >= 1.')
  num_environments = getattr(actor, 'num_environments', num_games)
  if num_environments != num_games:
    raise ValueError(f'the actor searches for {num_environments} environments at once; it must '
                     f'be made with num_environments={num_games} to play {num_games} games.')
  environments = [openspiel.OpenSpielEnvironment(game) for _ in range(num_games)]
  agent_players = tuple(index % 2 for index in range(num_games))
  timesteps = [environment.reset() for environment in environments]
  first_observation = timesteps[0].observation
  while True:
    if should_stop is not None and should_stop():
      return None
    for index, environment in enumerate(environments):
      while not timesteps[index].last() and environment.state.current_player() != agent_players[index]:
        timesteps[index] = environment.step(opponent.choose_action(environment.state))
    if all(timestep.last() for timestep in timesteps):
      break
    # Ended games keep a root with legal moves (the first position's): the search needs B roots.
    actions = actor.select_actions([first_observation if timestep.last() else timestep.observation
                                    for timestep in timesteps])
    for index, environment in enumerate(environments):
      if not timesteps[index].last():
        timesteps[index] = environment.step(actions[index])
  scores = tuple(int(np.sign(environment.player_returns()[player]))
                 for environment, player in zip(environments, agent_players))
  return MatchResult(game=str(game), opponent=opponent.name, agent_players=agent_players,
                     scores=scores)

