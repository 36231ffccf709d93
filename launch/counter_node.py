"""The counter node: Acme's counter, saved to and restored from the run directory."""

import json
import os
from typing import Dict

import launchpad as lp
from acme.utils import counting

from launch import status as status_lib

COUNTER_FILE = 'counter.json'


def saved_counts(run_dir: str) -> Dict[str, float]:
  """The counts in `run_dir`'s counter.json, which a resumed counter starts from."""
  with open(os.path.join(run_dir, COUNTER_FILE)) as file:
    saved = json.load(file)
  counts = dict(saved['cache'])
  for key, value in saved['counts'].items():
    counts[key] = counts.get(key, 0) + value
  return counts


class CounterNode(counting.Counter):
  """Acme's counter, saved to and restored from `counter.json` in the run directory."""

  def __init__(self, run_dir: str):
    super().__init__()
    self._path = os.path.join(run_dir, COUNTER_FILE)
    if os.path.exists(self._path):
      with open(self._path) as file:
        self.restore(json.load(file))

  def save_to_disk(self) -> None:
    status_lib.write_json_atomically(self._path, self.save())

  def run(self):
    lp.wait_for_stop()
    self.save_to_disk()
