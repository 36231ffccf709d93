"""Workarounds for the pinned Launchpad 0.5.0 and Reverb 0.7.0, each in one function.

Each goes around a behaviour of those versions or reaches past their public API; its docstring
says why and which version it was checked on, so that an upgrade knows what to look at again.
Nothing else in the project touches these libraries' private attributes or skips teardown.
"""

import os
import sys

from absl import logging


def exit_without_teardown(code: int = 0) -> None:
  """Ends this process with `code` at once, after flushing its logs and output.

  Checked on Reverb 0.7.0: interpreter teardown destroys Reverb dataset iterators and writers,
  and destroying one whose reader waits on a rate limiter or on a stopped server blocks forever.
  So a process whose work is saved leaves without teardown (a node under local_mp would
  otherwise hang until Launchpad kills the whole program, launcher included).
  """
  logging.flush()
  sys.stdout.flush()
  sys.stderr.flush()
  os._exit(code)  # pylint: disable=protected-access
