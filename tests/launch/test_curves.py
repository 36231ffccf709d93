"""The learning curve: rows from the monitor's CSV, and a PNG in the run directory at the end."""

import csv
import os

from launch import curves
from launch import local
from launch import monitor as monitor_lib
from launch import program as program_lib

PNG_MAGIC = b'\x89PNG\r\n\x1a\n'


def _is_png(path: str) -> bool:
  with open(path, 'rb') as file:
    return file.read(len(PNG_MAGIC)) == PNG_MAGIC


def _write_curve_csv(run_dir: str, rows) -> None:
  """What the monitor's CSVLogger writes: sorted columns, one row per evaluation."""
  path = monitor_lib.curve_csv_path(run_dir)
  os.makedirs(os.path.dirname(path))
  with open(path, 'w', newline='') as file:
    writer = csv.DictWriter(file, fieldnames=sorted(rows[0]))
    writer.writeheader()
    writer.writerows(rows)


def test_run_directory_gets_the_curve_of_its_evaluations(tmp_path):
  run_dir = str(tmp_path)
  _write_curve_csv(run_dir, [
      {'wall_s': 20.5, 'env_steps': 1000, 'learner_steps': 10, 'evaluation_return': 21.0},
      {'wall_s': 41.0, 'env_steps': 2500, 'learner_steps': 40, 'evaluation_return': 480.0}])
  assert curves.read_rows(monitor_lib.curve_csv_path(run_dir))[1] == {
      'wall_s': 41.0, 'env_steps': 2500.0, 'learner_steps': 40.0, 'evaluation_return': 480.0}
  settings = program_lib.RunSettings(
      run_dir=run_dir, stopping_rule=monitor_lib.StoppingRule(target_eval_return=475, hold_s=60))
  path = local.save_learning_curve(run_dir, settings, 'gym:CartPole-v1')
  assert path == os.path.join(run_dir, 'learning_curve.png') and _is_png(path)


def test_run_stopped_before_its_first_evaluation_still_gets_a_curve(tmp_path):
  assert curves.read_rows(monitor_lib.curve_csv_path(str(tmp_path))) == []
  path = curves.save_curve([], str(tmp_path), 'evaluation_return', 'evaluation return', 'no evaluation')
  assert _is_png(path)
