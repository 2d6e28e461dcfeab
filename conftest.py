"""Root pytest configuration: quick mode for every notebook that `pytest` executes.

nbmake starts each notebook's kernel with this process's environment, so setting the
variable here (at the repository root, where pytest loads it for `notebooks/` too) reaches
the kernels. Run `AEUTILS_QUICK=0 pytest notebooks/` to execute them in full mode instead.
"""

import os

os.environ.setdefault("AEUTILS_QUICK", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ start-up chatter out
