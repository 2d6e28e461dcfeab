"""The course maintainers' tools: run and record the course, generate its tables, release it.

Run from the checkout's root, e.g. ``python -m tools.reproduce``. They import ``aeutils``;
``aeutils`` never imports them, and they are not part of the ``aeutils`` wheel.
"""
