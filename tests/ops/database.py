"""Direct database moves a test needs: making one write of one rotation fail."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tests.support.service import RunningService

# Where a confirmation's transaction can be made to fail: the rotation's move to `confirmed`, or
# the last write of all, its `rotation.confirm` audit event.
FAILING_WRITES = {
    "rotation_state": (
        "BEFORE UPDATE ON rotations",
        "NEW.id = '{rotation}'::uuid AND NEW.state = 'confirmed'",
    ),
    "confirm_audit_event": (
        "BEFORE INSERT ON audit_events",
        "NEW.target_id = '{rotation}' AND NEW.action = 'rotation.confirm'",
    ),
}


@asynccontextmanager
async def failing_confirmation(
    service: RunningService, write: str, rotation_id: str
) -> AsyncIterator[None]:
    """While open, the named write of this rotation's confirmation fails in the database."""
    when, condition = FAILING_WRITES[write]
    pool = service.app.runtime.database.pool
    await pool.execute(
        f"""
        CREATE FUNCTION test_fail_confirmation() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF {condition.format(rotation=rotation_id)} THEN
                RAISE EXCEPTION 'injected write failure';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER test_fail_confirmation {when}
            FOR EACH ROW EXECUTE FUNCTION test_fail_confirmation();
        """
    )
    table = when.rsplit(" ", 1)[-1]
    try:
        yield
    finally:
        await pool.execute(
            f"DROP TRIGGER test_fail_confirmation ON {table};"
            "DROP FUNCTION test_fail_confirmation();"
        )
