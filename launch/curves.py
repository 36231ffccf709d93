"""Learning curves of the learning benchmarks, saved as PNG (CSV when matplotlib is missing)."""

import csv
import os
from typing import Dict, List, Optional


def save_curve(rows: List[Dict[str, float]], output_dir: str, y_key: str, y_label: str,
               title: str, target: Optional[float] = None, x_key: str = 'env_steps') -> str:
  """learning_curve.png of `y_key` against `x_key` (a dashed line at `target`), or
  learning_curve.csv of every column if matplotlib does not import; returns the path."""
  try:
    import matplotlib  # pylint: disable=g-import-not-at-top
    matplotlib.use('Agg')
    from matplotlib import pyplot  # pylint: disable=g-import-not-at-top
  except ImportError:
    path = os.path.join(output_dir, 'learning_curve.csv')
    with open(path, 'w', newline='') as file:
      writer = csv.DictWriter(file, fieldnames=list(rows[0]) if rows else [x_key, y_key])
      writer.writeheader()
      writer.writerows(rows)
    return path
  path = os.path.join(output_dir, 'learning_curve.png')
  figure, axis = pyplot.subplots(figsize=(7, 4))
  axis.plot([row[x_key] for row in rows], [row[y_key] for row in rows], marker='o')
  if target is not None:
    axis.axhline(target, linestyle='--', color='gray')
  axis.set_xlabel(x_key.replace('_', ' '))
  axis.set_ylabel(y_label)
  axis.set_title(title)
  figure.savefig(path, dpi=100, bbox_inches='tight')
  return path
