#!/usr/bin/env bash
# Set up everything the suite needs on a fresh machine; safe to re-run (fast when done).
#  - .venv with the package and its dev extra (torch pinned to 2.13.0: the CPU build on
#    this platform; an unpinned torch would pull a multi-GB CUDA build)
#  - TeX Live from Debian when pdflatex is missing, and poppler-utils (pdftotext, pdftoppm: the
#    tests read the compiled appendix's text back) when pdftotext is missing, where apt-get is
#    usable (root)
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv" >&2
  "$PY" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "bootstrap: installing the package and its dev extra into .venv" >&2
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e '.[dev]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi

missing=()
command -v pdflatex >/dev/null 2>&1 || missing+=(texlive-latex-base texlive-latex-recommended texlive-latex-extra latexmk)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "bootstrap: installing ${missing[*]} from Debian (a few minutes, once)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "bootstrap: ${missing[*]} missing and apt-get unusable here: the report skips its PDFs without" \
         "pdflatex, and the PDF text tests skip without pdftotext" >&2
  fi
fi
