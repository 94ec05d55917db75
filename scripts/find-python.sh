#!/usr/bin/env bash
# Print the path of a working Python 3.10 (Rasa 3.6 needs Python < 3.11), or say what is missing in one line.
set -u
for candidate in python3.10 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do
  path=$(command -v "$candidate" 2>/dev/null) || continue
  if "$path" -c 'import sys, venv; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then
    echo "$path"
    exit 0
  fi
  # A pyenv shim answers to the name but runs only when 3.10 is selected.
  if PYENV_VERSION=$(ls "${PYENV_ROOT:-$HOME/.pyenv}/versions" 2>/dev/null | grep -m1 '^3\.10') "$path" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then
    real=$(PYENV_VERSION=$(ls "${PYENV_ROOT:-$HOME/.pyenv}/versions" | grep -m1 '^3\.10') "$path" -c 'import sys; print(sys.executable)')
    echo "$real"
    exit 0
  fi
done
echo "error: Python 3.10 not found (Rasa 3.6 needs Python < 3.11): install python3.10 or a pyenv 3.10 version" >&2
exit 1
