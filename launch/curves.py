"""Learning curves saved as PNG, for the runs of `launch.local` and the learning benchmarks.

Drawn on a `matplotlib.figure.Figure` with the Agg canvas rather than through pyplot: no backend
is chosen for the whole process (the launcher has no display) and no figure stays registered
after it is saved.
"""

import csv
import os
from typing import Dict, List, Optional

from matplotlib import figure as figure_lib

CURVE_FILE = 'learning_curve.png'


def read_rows(path: str) -> List[Dict[str, float]]:
  """The rows of a CSV log (e.g. Acme's CSVLogger's) as numbers; [] when the file is missing,
  since a run stopped before its first evaluation has not written one."""
  if not os.path.exists(path):
    return []
  with open(path, newline='') as file:
    return [{key: float(value) for key, value in row.items()} for row in csv.DictReader(file)]


def save_curve(rows: List[Dict[str, float]], output_dir: str, y_key: str, y_label: str,
               title: str, target: Optional[float] = None, x_key: str = 'env_steps') -> str:
  """Saves `output_dir`/learning_curve.png, `y_key` against `x_key` with a dashed line at
  `target`, and returns its path; with no rows the axes are empty, so that every run has one."""
  path = os.path.join(output_dir, CURVE_FILE)
  figure = figure_lib.Figure(figsize=(7, 4))
  axis = figure.subplots()
  axis.plot([row[x_key] for row in rows], [row[y_key] for row in rows], marker='o')
  if target is not None:
    axis.axhline(target, linestyle='--', color='gray')
  axis.set_xlabel(x_key.replace('_', ' '))
  axis.set_ylabel(y_label)
  axis.set_title(title)
  figure.savefig(path, dpi=100, bbox_inches='tight')
  return path
