import sys

from tools.verify.core import main

sys.exit(main())
