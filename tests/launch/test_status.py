"""status.json is complete, atomic and round-trips; the progress line carries every figure."""

import json
import os

import pytest

from launch import status as status_lib


def test_write_then_read_round_trips(tmp_path):
  path = str(tmp_path / 'run' / 'status.json')
  written = status_lib.Status(learner_steps=12, env_steps=3400, replay_size=900, weights_version=10,
                              last_eval_return=187.5, resumed_from_step=None, first_target_s=61.5,
                              first_target_env_steps=3000, first_target_learner_steps=10, held=True)
  status_lib.write_status(path, written)
  assert status_lib.read_status(path) == written
  on_disk = json.load(open(path))
  for key in ('learner_steps', 'env_steps', 'replay_size', 'weights_version', 'last_eval_return',
              'last_eval_learner_steps', 'resumed_from_step', 'state', 'first_target_s',
              'first_target_env_steps', 'first_target_learner_steps', 'hold_evaluations',
              'hold_lowest_return', 'held'):
    assert key in on_disk
  assert on_disk['resumed_from_step'] is None and on_disk['state'] == 'running'
  assert on_disk['held'] is True and on_disk['hold_lowest_return'] is None


def test_rewrite_leaves_no_temporary_files(tmp_path):
  path = str(tmp_path / 'status.json')
  for step in range(5):
    status_lib.write_status(path, status_lib.Status(learner_steps=step))
  assert os.listdir(tmp_path) == ['status.json']
  assert status_lib.read_status(path).learner_steps == 4


def test_failed_write_keeps_the_previous_file(tmp_path):
  path = str(tmp_path / 'status.json')
  status_lib.write_status(path, status_lib.Status(learner_steps=7))
  broken = status_lib.Status(learner_steps=8)
  broken.last_eval_return = object()  # Not JSON serialisable.
  with pytest.raises(TypeError):
    status_lib.write_status(path, broken)
  assert status_lib.read_status(path).learner_steps == 7
  assert os.listdir(tmp_path) == ['status.json']


def test_unknown_state_is_rejected():
  with pytest.raises(ValueError, match=r"state 'paused' is not allowed; allowed: running, finished, failed"):
    status_lib.Status(state='paused')


def test_progress_line_shows_every_figure():
  line = status_lib.progress_line(status_lib.Status(
      learner_steps=1200, env_steps=12345, replay_size=900, weights_version=1100, last_eval_return=187.5,
      env_steps_per_s=410, learner_steps_per_s=40.25, weight_staleness=100, wall_s=61,
      num_actors=4, actors_alive=3))
  for figure in ('12,345', '410/s', '1,200', '40.2/s', '187.5', 'replay 900', 'v1100', 'staleness 100',
                 'actors 3/4 alive'):
    assert figure in line


def test_progress_line_says_how_the_hold_goes():
  status = status_lib.Status(wall_s=100, first_target_s=40, first_target_env_steps=5000,
                             hold_evaluations=2, hold_lowest_return=480.0)
  assert status_lib.progress_line(status).endswith(
      '| target reached at 40 s (5,000 env steps), holding (2 evaluations since, lowest 480)')
  assert 'target' not in status_lib.progress_line(status_lib.Status())


@pytest.mark.parametrize('fields, summary', [
    ({}, 'target not reached'),
    ({'first_target_s': 40, 'first_target_env_steps': 5000, 'state': 'finished'},
     'target reached at 40 s (5,000 env steps), hold window incomplete (no evaluation since)'),
    ({'first_target_s': 40, 'first_target_env_steps': 5000, 'state': 'finished', 'held': True,
      'hold_evaluations': 3, 'hold_lowest_return': 476.0}, 'held (3 evaluations since, lowest 476)'),
    ({'first_target_s': 40, 'first_target_env_steps': 5000, 'state': 'finished', 'held': False,
      'hold_evaluations': 3, 'hold_lowest_return': 210.0}, 'did not hold (3 evaluations since, lowest 210)'),
])
def test_target_summary(fields, summary):
  assert summary in status_lib.target_summary(status_lib.Status(**fields))
