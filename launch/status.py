"""What a running program tells the people and scripts following it.

`status.json` in the run directory is rewritten atomically (write a temporary file, then
`os.replace`), so a reader never sees half a file; the progress line is what a person at the
terminal sees refreshed in place.
"""

import dataclasses
import json
import os
import tempfile
from typing import Optional

STATES = ('running', 'finished', 'failed')


@dataclasses.dataclass
class Status:
  """A snapshot of a run. `resumed_from_step` is None on a fresh run.

  Seconds (`wall_s`, `first_target_s`) count from the start of this launch, steps from the start
  of the run (they continue on resume). A return that touches the target once and falls back has
  not learnt the task, so reaching the target opens a hold window (`StoppingRule.hold_s`), and the
  fields below say what happened in it.

  Attributes:
    policy_target_staleness: mean age, in learner steps, of the weights that searched the policy
      targets of the learner's latest batch (its share from the replay); None before a step.
    reanalyzed_target_staleness: the same for its reanalysed items; None without reanalysis.
    reanalyzed_items: items the reanalyzers have written.
    num_actors, actors_alive: actor nodes of the program, and those that answered the monitor
      within its `dead_after_s` (a killed actor is not restarted; the run goes on with the others).
    num_reanalyzers, reanalyzers_alive: the same for reanalyzer nodes.
    last_eval_learner_steps: learner step of the weights the last evaluation played with; with
      `last_eval_return` it tells one evaluation from the next.
    first_target_s: when the first evaluation at or above the target was seen; None before.
    first_target_env_steps: environment steps then.
    first_target_learner_steps: learner step of the weights of that evaluation.
    hold_evaluations: evaluations seen after that one.
    hold_lowest_return: the lowest of their returns; None while there is none.
    held: False from the first evaluation in the window below the target, True once the window is
      over without one; None otherwise (never reached, window running, or the run stopped before
      the window was over with nothing below the target yet: "window incomplete").
  """
  state: str = 'running'
  reason: Optional[str] = None
  learner_steps: int = 0
  env_steps: int = 0
  replay_size: int = 0
  weights_version: int = 0
  last_eval_return: Optional[float] = None
  last_eval_learner_steps: Optional[int] = None
  resumed_from_step: Optional[int] = None
  env_steps_per_s: float = 0.0
  learner_steps_per_s: float = 0.0
  weight_staleness: Optional[int] = None
  policy_target_staleness: Optional[float] = None
  reanalyzed_target_staleness: Optional[float] = None
  reanalyzed_items: int = 0
  actor_restarts: int = 0
  num_actors: int = 0
  actors_alive: int = 0
  num_reanalyzers: int = 0
  reanalyzers_alive: int = 0
  wall_s: float = 0.0
  first_target_s: Optional[float] = None
  first_target_env_steps: Optional[int] = None
  first_target_learner_steps: Optional[int] = None
  hold_evaluations: int = 0
  hold_lowest_return: Optional[float] = None
  held: Optional[bool] = None

  def __post_init__(self):
    if self.state not in STATES:
      raise ValueError(f'status state {self.state!r} is not allowed; allowed: {", ".join(STATES)}.')


def write_json_atomically(path: str, payload) -> None:
  """Replaces `path` with `payload` as JSON, so that a reader sees the old file or the new one."""
  directory = os.path.dirname(os.path.abspath(path))
  os.makedirs(directory, exist_ok=True)
  handle, temporary = tempfile.mkstemp(dir=directory, prefix='.tmp-', suffix='.json')
  try:
    with os.fdopen(handle, 'w') as file:
      json.dump(payload, file, indent=2)
      file.write('\n')
    os.replace(temporary, path)
  except BaseException:
    os.unlink(temporary)
    raise


def write_status(path: str, status: Status) -> None:
  """Atomically replaces `path` with `status` as JSON."""
  write_json_atomically(path, dataclasses.asdict(status))


def read_status(path: str) -> Status:
  with open(path) as file:
    return Status(**json.load(file))


def target_summary(status: Status) -> str:
  """Whether the evaluation return reached its target and held there, in words."""
  if status.first_target_s is None:
    return 'target not reached'
  reached = (f'target reached at {status.first_target_s:.0f} s '
             f'({status.first_target_env_steps:,} env steps)')
  if status.hold_lowest_return is None:
    since = 'no evaluation since'
  else:
    since = f'{status.hold_evaluations} evaluations since, lowest {status.hold_lowest_return:g}'
  if status.held is None:
    verdict = 'holding' if status.state == 'running' else 'hold window incomplete'
  else:
    verdict = 'held' if status.held else 'did not hold'
  return f'{reached}, {verdict} ({since})'


def progress_line(status: Status) -> str:
  """One line for the terminal, e.g. 'env 12,345 (410/s) | learner 1,200 (40/s) | ...'."""
  evaluation = '-' if status.last_eval_return is None else f'{status.last_eval_return:.1f}'
  staleness = '-' if status.weight_staleness is None else f'{status.weight_staleness}'
  target = '' if status.first_target_s is None else f' | {target_summary(status)}'
  reanalysed = ('' if status.reanalyzed_target_staleness is None else
                f' | reanalysed {status.reanalyzed_items:,} (targets '
                f'{status.reanalyzed_target_staleness:.0f} steps old)')
  nodes = f'actors {status.actors_alive}/{status.num_actors}'
  if status.num_reanalyzers:
    nodes += f', reanalyzers {status.reanalyzers_alive}/{status.num_reanalyzers}'
  return (f'[{status.wall_s:6.0f}s] env {status.env_steps:,} ({status.env_steps_per_s:.0f}/s) | '
          f'learner {status.learner_steps:,} ({status.learner_steps_per_s:.1f}/s) | '
          f'eval return {evaluation} | replay {status.replay_size:,} | '
          f'weights v{status.weights_version} (staleness {staleness}) | {nodes} alive'
          f'{reanalysed}{target}')
