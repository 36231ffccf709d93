"""What a run directory was made with (RUN_DIR/run.json), so that a resume cannot mix two runs.

A fresh run records its environment id and its agent config; `--resume` compares them with what
its own flags give before anything launches (`launch.local`). The replay's stored items, the
learner's checkpoint and the environment all take their shapes and meaning from these: resumed
with another td_steps, latent size or environment, a run would fail deep inside Reverb or
TensorFlow with an error that names neither, or, worse, go on training on data made for another
setting.

What may differ on resume (`RESUMABLE_FIELDS`): how much compute acting and sampling get
(`envs_per_actor` and `search.num_simulations`, flags of their own, `search.root_inference`,
`learner_xla`, `variable_update_period`, `prefetch_size`, `num_parallel_calls`), and the two remedies a learner stopped by a non-finite
loss names (`learning_rate`, `max_gradient_norm`; `agents.muzero.learning`), so that a diverged
run can go on from its last good checkpoint. Everything else is refused: the replay signature
(unroll_steps, td_steps, and which columns exist: target network, consistency loss,
reanalysis), the shapes of the network, the consistency heads and the optimizer's slots, the
replay table's settings, and what the stored values mean (discount, the supports; whether the
game has two players is the environment's, which `--env` pins).
Fields that could be argued safe one by one (the search's noise, the temperature schedule)
stay refused too: a run resumed with them is a different experiment, better started in a new run
directory. Flags that are not config (`--max_seconds`, `--num_actors`, `--seed`, ...) are not
recorded, nor are the search fields the agent sets for every search
(`agents.muzero.config.AGENT_SET_SEARCH_FIELDS`, always SearchConfig's defaults in a config).
Field names are those of `--config_overrides`, nested ones dotted (`search.num_simulations`,
`network.channels`); a record written before the search settings were nested names them flat
(`num_simulations`): `read` refuses it with a message saying so.
"""

import dataclasses
import json
import os
from typing import Any, Dict, List, NamedTuple, Optional

from agents.muzero import config as config_lib
from launch import status as status_lib

RUN_FILE = 'run.json'
# Config fields a resumed run may change (see the module docstring).
RESUMABLE_FIELDS = ('envs_per_actor', 'search.num_simulations', 'search.root_inference',
                    'learner_xla', 'variable_update_period', 'prefetch_size',
                    'num_parallel_calls', 'learning_rate', 'max_gradient_norm')
# The name of the environment id among the differences, as its flag.
ENVIRONMENT = '--env'


class _Missing:
  """A field one side does not have (a record written by code with other config fields)."""

  def __repr__(self):
    return '<not recorded>'


MISSING = _Missing()


class Difference(NamedTuple):
  """A field whose value in the run directory's record differs from this run's."""
  name: str
  recorded: Any
  current: Any


def make_record(environment_id: str, config: config_lib.MuZeroConfig) -> Dict[str, Any]:
  """The record of a run, as it reads back from JSON (tuples are lists)."""
  recorded = dataclasses.asdict(config)
  for field in config_lib.AGENT_SET_SEARCH_FIELDS:
    del recorded['search'][field]
  return json.loads(json.dumps({'environment': environment_id, 'config': recorded}))


def write(run_dir: str, environment_id: str, config: config_lib.MuZeroConfig) -> str:
  """Writes RUN_DIR/run.json atomically; returns its path."""
  path = os.path.join(run_dir, RUN_FILE)
  status_lib.write_json_atomically(path, make_record(environment_id, config))
  return path


def read(run_dir: str) -> Optional[Dict[str, Any]]:
  """The record in `run_dir`, or None when there is none (a run made before records existed).

  Raises:
    ValueError: the file is not a record (not JSON, or without 'environment' and 'config'), or
      one written before the search settings were nested (no 'search' in its config).
  """
  path = os.path.join(run_dir, RUN_FILE)
  if not os.path.exists(path):
    return None
  try:
    with open(path) as file:
      record = json.load(file)
  except ValueError as error:
    raise ValueError(f'{path} is not JSON ({error}).') from error
  if (not isinstance(record, dict) or not isinstance(record.get('config'), dict)
      or 'environment' not in record):
    raise ValueError(f'{path} is not a run record: it needs an "environment" and a "config" '
                     'object.')
  if not isinstance(record['config'].get('search'), dict):
    raise ValueError(f'{path} was written before the search settings were nested in the config '
                     '(it names num_simulations where this code has search.num_simulations), so '
                     'this code cannot check a resume against it; start a new --run_dir, or '
                     'resume with the code that made the run.')
  return record


def recorded_config(record: Dict[str, Any]) -> config_lib.MuZeroConfig:
  """The config a run was made with, from its record (`read`): what a tool that loads the run's
  weights (`bench.play`) must build its network and search from, overrides included.

  Raises:
    ValueError: the record names a field this code's config does not have, or a value it refuses.
  """
  def tuples(value):  # JSON gave back the config's tuples as lists.
    return tuple(tuples(item) for item in value) if isinstance(value, list) else value
  values = {name: tuples(value) for name, value in _flatten(record['config']).items()}
  try:
    return config_lib.with_overrides(config_lib.MuZeroConfig(), **values)
  except (TypeError, ValueError) as error:
    raise ValueError(f'the run record of environment {record["environment"]!r} does not give a '
                     f'config this code can build ({error}); was it written by other code?') from error


def _flatten(config: Dict[str, Any], prefix: str = '') -> Dict[str, Any]:
  """{'network': {'channels': 4}} -> {'network.channels': 4}, the names --config_overrides uses."""
  flat = {}
  for name, value in config.items():
    if isinstance(value, dict):
      flat.update(_flatten(value, f'{prefix}{name}.'))
    else:
      flat[f'{prefix}{name}'] = value
  return flat


def differences(record: Dict[str, Any], environment_id: str,
                config: config_lib.MuZeroConfig) -> List[Difference]:
  """The fields of `record` this run may not change but does, environment first.

  Values are compared as JSON gives them back, so a tuple equals the list it was written as
  and 1 equals 1.0; a field only one side has is a difference (`MISSING` on the other side).
  """
  current = make_record(environment_id, config)
  found = []
  if record['environment'] != current['environment']:
    found.append(Difference(ENVIRONMENT, record['environment'], current['environment']))
  recorded_fields, current_fields = _flatten(record['config']), _flatten(current['config'])
  for name in sorted(set(recorded_fields) | set(current_fields)):
    if name in RESUMABLE_FIELDS:
      continue
    recorded_value = recorded_fields.get(name, MISSING)
    current_value = current_fields.get(name, MISSING)
    if recorded_value != current_value:
      found.append(Difference(name, recorded_value, current_value))
  return found
