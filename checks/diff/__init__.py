"""Diff mode: base vs head from git objects, and reviewdog's filter modes."""
