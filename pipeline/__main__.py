"""`python -m pipeline` is `wavecoder` (kept for scripts written before `python -m wavecoder`)."""

import sys

from wavecoder.cli import main

sys.exit(main())
