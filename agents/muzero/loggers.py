"""Loggers for MuZero's actors and learner: terminal, CSV and TensorBoard through Acme's loggers."""

import os
from typing import Callable, Optional

from acme.utils import loggers
from acme.utils.loggers import tf_summary


def make_logger(label: str, directory: Optional[str] = None, steps_key: Optional[str] = None,
                time_delta: float = 1.0,
                print_fn: Optional[Callable[[str], None]] = print) -> loggers.Logger:
  """A logger writing to the terminal and, with a directory, to CSV and TensorBoard.

  Files: `{directory}/logs/{label}/logs.csv` (Acme's CSVLogger) and TensorBoard events in
  `{directory}/tensorboard/{label}` (Acme's TFSummaryLogger, indexed by `steps_key`).

  Args:
    label: name of the stream, e.g. 'actor', 'learner', 'evaluator'.
    directory: where CSV and TensorBoard files go; None logs to the terminal only.
    steps_key: the record key TensorBoard uses as x axis (e.g. 'learner_steps'); records without
      it are skipped by TensorBoard, not by the other outputs.
    time_delta: minimum seconds between two written records (Acme's TimeFilter); 0 writes all.
    print_fn: terminal output; None silences the terminal.
  """
  outputs = []
  if print_fn is not None:
    outputs.append(loggers.TerminalLogger(label=label, print_fn=print_fn))
  if directory:
    outputs.append(loggers.CSVLogger(directory, label=label, add_uid=False))
    outputs.append(tf_summary.TFSummaryLogger(os.path.join(directory, 'tensorboard', label),
                                              label=label, steps_key=steps_key))
  logger = loggers.Dispatcher(outputs, loggers.to_numpy)
  logger = loggers.NoneFilter(logger)
  return loggers.TimeFilter(logger, time_delta)
