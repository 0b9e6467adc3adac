"""Imports every model module so `Base.metadata` is complete (Alembic, drift test, RLS list)."""

from server.accounts import models as accounts_models  # noqa: F401
from server.audit import models as audit_models  # noqa: F401
from server.db.base import Base
from server.drills import models as drills_models  # noqa: F401
from server.events import models as events_models  # noqa: F401
from server.operations import models as operations_models  # noqa: F401
from server.push import models as push_models  # noqa: F401
from server.registry import models as registry_models  # noqa: F401
from server.tenancy import models as tenancy_models  # noqa: F401
from server.vc import models as vc_models  # noqa: F401

metadata = Base.metadata
