#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter, or explains how to get one and exits 1.
# Launchpad 0.5 and Reverb 0.7 ship wheels only up to Python 3.10, so no other version will do.
set -u
candidates=(python3.10)
command -v pyenv >/dev/null 2>&1 && candidates+=("$(pyenv root)/versions/"3.10*/bin/python3.10)
candidates+=("$HOME/.pyenv/versions/"3.10*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10)
for candidate in "${candidates[@]}"; do
  path=$(command -v "$candidate" 2>/dev/null) || continue
  if "$path" -c 'import sys, venv; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
    echo "$path"
    exit 0
  fi
done
cat >&2 <<'MSG'
error: no Python 3.10 interpreter found (looked for python3.10 on PATH and under ~/.pyenv/versions).
This project needs exactly Python 3.10: dm-launchpad 0.5.0 and dm-reverb 0.7.0 ship wheels only up to 3.10.
Get one with either of:
  pyenv install 3.10.13          # then re-run make; .python-version selects it
  sudo apt install python3.10 python3.10-venv
MSG
exit 1
