import sys

from kerasts.cli import main

sys.exit(main())
