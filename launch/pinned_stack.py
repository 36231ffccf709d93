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


def send_process_logs_to(directory: str) -> None:
  """Makes local_mp write each process's output under `directory` (`<group>/<index>`).

  Checked on Launchpad 0.5.0: `launch_local_output_to_files` reads LAUNCHPAD_LOGGING_DIR once,
  when it is imported, into its module global `_LOGGING_DIR`, and there is no argument for it.
  The run directory is known only after the flags are parsed, long after `import launchpad`, so
  this sets both the variable and the global.
  """
  from launchpad.launch.run_locally import launch_local_output_to_files  # pylint: disable=g-import-not-at-top
  os.environ['LAUNCHPAD_LOGGING_DIR'] = directory
  launch_local_output_to_files._LOGGING_DIR = directory  # pylint: disable=protected-access


def keep_launcher_when_killing(manager) -> None:
  """Makes the local_mp worker manager `manager` (from `lp.launch`) spare the launcher's process.

  Checked on Launchpad 0.5.0: a node still busy (say, compiling its search) when the termination
  notice runs out is killed, and the manager then kills the launcher too unless its private
  `_kill_main_thread` is False; `lp.launch` does not pass that argument to the `WorkerManager` it
  makes. With it the launcher survives to print the run's summary.
  """
  manager._kill_main_thread = False  # pylint: disable=protected-access
