"""`python -m integration_api.cli`: the same as the `integration-api` command."""

import sys

from integration_api.cli import main

sys.exit(main())
