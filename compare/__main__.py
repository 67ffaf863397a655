"""Entry point of `python -m compare`."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow loads

from compare.cli import main  # noqa: E402

raise SystemExit(main())
