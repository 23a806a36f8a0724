"""The whole state schema: every capability declares its tables in its own package, on one
``Base``; importing this module loads them all, so ``Base.metadata`` describes every table the
migrations create (the schema test compares the two)."""

from __future__ import annotations

import comptroller.agents.models
import comptroller.budgets.alert_models
import comptroller.budgets.store
import comptroller.governance.approval_models
import comptroller.governance.models
import comptroller.ingest.fx_rates
import comptroller.keys.models
import comptroller.notify.models  # noqa: F401
from comptroller.state.models import Base

metadata = Base.metadata
