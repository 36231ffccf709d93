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
  """A snapshot of a run. `resumed_from_step` is None on a fresh run."""
  state: str = 'running'
  reason: Optional[str] = None
  learner_steps: int = 0
  env_steps: int = 0
  replay_size: int = 0
  weights_version: int = 0
  last_eval_return: Optional[float] = None
  resumed_from_step: Optional[int] = None
  env_steps_per_s: float = 0.0
  learner_steps_per_s: float = 0.0
  weight_staleness: Optional[int] = None
  actor_restarts: int = 0
  wall_s: float = 0.0

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


def progress_line(status: Status) -> str:
  """One line for the terminal, e.g. 'env 12,345 (410/s) | learner 1,200 (40/s) | ...'."""
  evaluation = '-' if status.last_eval_return is None else f'{status.last_eval_return:.1f}'
  staleness = '-' if status.weight_staleness is None else f'{status.weight_staleness}'
  return (f'[{status.wall_s:6.0f}s] env {status.env_steps:,} ({status.env_steps_per_s:.0f}/s) | '
          f'learner {status.learner_steps:,} ({status.learner_steps_per_s:.1f}/s) | '
          f'eval return {evaluation} | replay {status.replay_size:,} | '
          f'weights v{status.weights_version} (staleness {staleness})')
