"""The variable server: the latest weights the learner published, and their version.

It decouples N actors from the learner: the learner pushes `(version, groups)` every few steps,
actors pull whenever their `VariableClient` asks, never touching the learner's own process. The
version is the learner step the weights come from, so an actor knows how stale its weights are.
"""

import threading
from typing import Dict, List, Optional, Sequence

import numpy as np


class VariableServer:
  """An `acme.core.VariableSource` holding what the learner published last.

  `get_variables` blocks until the first publication (an actor's very first pull must wait for
  weights); later pulls return at once with the latest weights.
  """

  def __init__(self, first_pull_timeout_s: Optional[float] = None):
    self._condition = threading.Condition()
    self._groups: Optional[Dict[str, List[np.ndarray]]] = None
    self._version = -1
    self._first_pull_timeout_s = first_pull_timeout_s

  def publish(self, version: int, groups: Dict[str, List[np.ndarray]]) -> None:
    """Replaces the held weights with `groups` (name -> list of arrays) from learner step `version`."""
    with self._condition:
      self._groups = dict(groups)
      self._version = int(version)
      self._condition.notify_all()

  def version(self) -> int:
    """The learner step of the held weights; -1 before the first publication."""
    with self._condition:
      return self._version

  def get_variables(self, names: Sequence[str]) -> List[List[np.ndarray]]:
    with self._condition:
      if not self._condition.wait_for(lambda: self._groups is not None, self._first_pull_timeout_s):
        raise TimeoutError(f'no weights were published within {self._first_pull_timeout_s} s.')
      unknown = [name for name in names if name not in self._groups]
      if unknown:
        raise ValueError(f'unknown variable group(s) {unknown}; allowed: {sorted(self._groups)}.')
      return [self._groups[name] for name in names]
