import sys

from wavecoder.cli import main

sys.exit(main())
