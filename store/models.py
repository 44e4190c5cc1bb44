"""Typed SQLAlchemy 2.0 models: the whole persistent state of the service.

Times are timezone-aware UTC everywhere (`UTCDateTime` keeps SQLite honest about that); a
patient's or store's zone is only used to decide "local day", the send window and how dates
are printed to the patient. Enumerations are stored as short strings with CHECK constraints so
the database itself refuses a value the code does not know.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Dialect,
    Enum,
    Float,
    ForeignKey,
    Index,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names make migrations reviewable and identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """Return the current time as an aware UTC datetime."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Store aware datetimes as UTC and always read them back aware.

    PostgreSQL keeps the offset (timestamptz); SQLite drops it, so values are converted to UTC
    on the way in and tagged as UTC on the way out. Naive datetimes are refused: they are bugs.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime(), dict[str, Any]: JSON()}


def table_of(model: type[Base]) -> Table:
    """Return a model's Table for plain INSERT/UPDATE statements (typed as a Table)."""
    return cast(Table, model.__table__)


class Channel(enum.StrEnum):
    SMS = "sms"
    VOICE = "voice"


class Language(enum.StrEnum):
    EN = "en"
    ES = "es"


class MedType(enum.StrEnum):
    MAINTENANCE = "maintenance"
    PRN = "prn"


class Package(enum.StrEnum):
    SPLITTABLE = "splittable"
    WHOLE = "whole"


class CheckinStatus(enum.StrEnum):
    """SPEC 5.5."""

    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    CONFIRMED = "confirmed"
    FLAGGED = "flagged"
    INCOMPLETE = "incomplete"  # answered in part, then silent past the deadline
    UNREACHABLE = "unreachable"
    OPTED_OUT = "opted_out"
    EXPIRED = "expired"


OPEN_CHECKIN_STATUSES = (CheckinStatus.SCHEDULED, CheckinStatus.IN_PROGRESS)


class QueueKind(enum.StrEnum):
    """SPEC 5.6."""

    MED_CHANGE = "med_change"
    ADHERENCE = "adherence"
    PRN_NEED = "prn_need"
    HEALTH_CHANGE = "health_change"
    CONCERN = "concern"
    CALLBACK_REQUEST = "callback_request"
    NEEDS_HUMAN = "needs_human"
    UNREACHABLE = "unreachable"
    OPTED_OUT = "opted_out"
    INVALID_NUMBER = "invalid_number"
    INCOMPLETE = "incomplete"  # the patient stopped answering part way; lists what is left
    RENEWAL_NEEDED = "renewal_needed"  # a medicine to fill has no refills left
    NOT_PICKED_UP = "not_picked_up"  # a ready fill was not collected in time


class QueueStatus(enum.StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    RESOLVED = "resolved"


class Priority(enum.IntEnum):
    """Lower sorts first in the queue."""

    HIGH = 1
    NORMAL = 2
    LOW = 3


class Role(enum.StrEnum):
    PHARMACIST = "pharmacist"
    TECHNICIAN = "technician"
    ADMIN = "admin"


class Direction(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Purpose(enum.StrEnum):
    """Why an outbound message or call exists; outreach purposes count against the caps."""

    FIRST = "first"
    REMINDER = "reminder"
    CALL = "call"
    REPLY = "reply"
    STAFF = "staff"
    SYSTEM = "system"  # opt-out/opt-in confirmations, help, unknown-number replies
    READY = "ready"  # "your refills are ready" (SPEC 13)
    PICKUP_REMINDER = "pickup_reminder"  # a ready fill not collected yet
    WELCOME = "welcome"  # the one welcome text after accepted consent (SPEC 14)


# The attempts of a check-in (SPEC 7): first outreach, reminder, call.
CHECKIN_PURPOSES = (Purpose.FIRST, Purpose.REMINDER, Purpose.CALL)
# Pharmacy-initiated outreach: what the caps of SPEC 7 count (a ready notice and its reminder
# are outreach too, SPEC 13; so is the welcome text, though it starts no check-in).
OUTREACH_PURPOSES = (
    Purpose.FIRST,
    Purpose.REMINDER,
    Purpose.CALL,
    Purpose.READY,
    Purpose.PICKUP_REMINDER,
    Purpose.WELCOME,
)


class CheckinForm(enum.StrEnum):
    """SPEC 6: one question for every topic (quick), or one question per topic (full)."""

    QUICK = "quick"
    FULL = "full"


class Delivery(enum.StrEnum):
    PICKUP = "pickup"
    DELIVERY = "delivery"


class ConsentState(enum.StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"


class ConsentMethod(enum.StrEnum):
    VERBAL = "verbal"
    WRITTEN = "written"
    ELECTRONIC = "electronic"
    IMPORT = "import"  # a consent date from the PMS export


class FillState(enum.StrEnum):
    """SPEC 13: to_prepare -> prepared -> ready -> picked_up | delivered; on_hold any time."""

    TO_PREPARE = "to_prepare"
    PREPARED = "prepared"
    READY = "ready"
    PICKED_UP = "picked_up"
    DELIVERED = "delivered"
    ON_HOLD = "on_hold"


class RenewalAnswer(enum.StrEnum):
    APPROVED = "approved"
    DENIED = "denied"
    CHANGED = "changed"


class Service(enum.StrEnum):
    """Other services offered at enrollment, followed up by staff (SPEC 14)."""

    IMMUNIZATIONS = "immunizations"
    MTM_CMR = "mtm_cmr"
    ADHERENCE_PACKAGING = "adherence_packaging"
    OTHER = "other"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(str(m.value)) for m in cls),
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Store(Base):
    """A pharmacy location: its own number, timezone, send window and lead time."""

    __tablename__ = "stores"
    __table_args__ = (
        CheckConstraint("lead_days BETWEEN 3 AND 7", name="lead_days_range"),
        # SPEC 7: never outside 08:00-20:00 local time, whatever a store asks for.
        CheckConstraint(
            "window_start_minute >= 480 AND window_end_minute <= 1200"
            " AND window_start_minute < window_end_minute",
            name="send_window_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(20))
    timezone: Mapped[str] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(2), default="US")
    from_number: Mapped[str | None] = mapped_column(String(20))
    messaging_service_sid: Mapped[str | None] = mapped_column(String(40))
    # The send window in minutes after local midnight (09:00 to 19:00 by default).
    window_start_minute: Mapped[int] = mapped_column(default=9 * 60)
    window_end_minute: Mapped[int] = mapped_column(default=19 * 60)
    lead_days: Mapped[int] = mapped_column(default=7)
    reminder_delay_hours: Mapped[int] = mapped_column(default=24)
    unreachable_days: Mapped[int] = mapped_column(default=3)
    checkin_form: Mapped[CheckinForm] = mapped_column(
        _enum(CheckinForm, "checkin_form"), default=CheckinForm.QUICK
    )
    # Opening hours as staff write them ("Mon-Fri 09:00-19:00, Sat 10:00-14:00"); None: unknown,
    # so "press 0" takes a message instead of ringing the store (store/store_settings.py).
    hours: Mapped[str | None] = mapped_column(String(200))
    pickup_days: Mapped[int] = mapped_column(default=5)  # a ready fill waits this long
    daily_fill_limit: Mapped[int] = mapped_column(default=40)  # workload: busier days marked
    enrollment_target: Mapped[int] = mapped_column(default=100)  # the program report's target
    # New patients from an import wait on the roster until staff review them (no outreach).
    review_imports: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def window_start(self) -> dt.time:
        return dt.time(*divmod(self.window_start_minute, 60))

    @property
    def window_end(self) -> dt.time:
        return dt.time(*divmod(self.window_end_minute, 60))


user_stores = Table(
    "user_stores",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("store_id", ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True),
)


class Patient(Base):
    """A med sync patient as imported from the pharmacy management system."""

    __tablename__ = "patients"
    __table_args__ = (
        UniqueConstraint("store_id", "external_id"),
        Index("ix_patients_phone", "phone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    external_id: Mapped[str] = mapped_column(String(64))  # the PMS patient_id
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    phone: Mapped[str] = mapped_column(String(20))  # E.164
    language: Mapped[Language] = mapped_column(_enum(Language, "language"), default=Language.EN)
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"), default=Channel.SMS)
    timezone: Mapped[str | None] = mapped_column(String(64))  # None: the store's
    # Outreach needs consent_date (accepted consent); the rest records how and by whom (SPEC 14).
    consent_date: Mapped[dt.date | None] = mapped_column(Date)
    consent_state: Mapped[ConsentState | None] = mapped_column(_enum(ConsentState, "consent_state"))
    consent_method: Mapped[ConsentMethod | None] = mapped_column(
        _enum(ConsentMethod, "consent_method")
    )
    consent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    consent_recorded_at: Mapped[dt.datetime | None]
    welcomed_at: Mapped[dt.datetime | None]  # the welcome text, sent once
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)  # new from an import
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    delivery: Mapped[Delivery] = mapped_column(_enum(Delivery, "delivery"), default=Delivery.PICKUP)
    phi_ok: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out_at: Mapped[dt.datetime | None]
    opted_out_via: Mapped[str | None] = mapped_column(String(32))
    import_run: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    store: Mapped[Store] = relationship()
    medicines: Mapped[list[Medicine]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", order_by="Medicine.name"
    )
    enrollment: Mapped[Enrollment | None] = relationship(
        back_populates="patient", cascade="all, delete-orphan"
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def opted_out(self) -> bool:
        return self.opted_out_at is not None


class Medicine(Base):
    __tablename__ = "medicines"
    __table_args__ = (UniqueConstraint("patient_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    med_type: Mapped[MedType] = mapped_column(_enum(MedType, "med_type"))
    days_supply: Mapped[int | None]
    last_fill_date: Mapped[dt.date | None] = mapped_column(Date)
    refills_remaining: Mapped[int | None]
    quantity: Mapped[float | None] = mapped_column(Float)
    daily_dose: Mapped[float | None] = mapped_column(Float)
    package: Mapped[Package] = mapped_column(_enum(Package, "package"), default=Package.SPLITTABLE)
    controlled: Mapped[bool] = mapped_column(Boolean, default=False)
    # For renewal requests to the prescriber (SPEC 5.4, 13).
    rx_number: Mapped[str | None] = mapped_column(String(32))
    prescriber_name: Mapped[str | None] = mapped_column(String(120))
    prescriber_npi: Mapped[str | None] = mapped_column(String(10))
    prescriber_phone: Mapped[str | None] = mapped_column(String(20))
    prescriber_fax: Mapped[str | None] = mapped_column(String(20))
    import_run: Mapped[str | None] = mapped_column(String(32))

    patient: Mapped[Patient] = relationship(back_populates="medicines")


# An enrollment waiting for the check-in of its current anchor date (scheduler).
CHECKIN_PENDING = "checkin_anchor_date IS NULL OR checkin_anchor_date <> anchor_date"


class Enrollment(Base):
    """A patient's place in the med sync program: the next anchor date and the cycle."""

    __tablename__ = "enrollments"
    __table_args__ = (
        CheckConstraint("cycle_days BETWEEN 7 AND 365", name="cycle_days_range"),
        # The scheduler's check-in creation: only enrollments still waiting for the check-in of
        # their current anchor are in this index, so the pass reads the due ones and no others,
        # a page at a time from the last (anchor date, id) it read.
        Index(
            "ix_enrollments_checkin_pending",
            "anchor_date",
            "id",
            postgresql_where=text(CHECKIN_PENDING),
            sqlite_where=text(CHECKIN_PENDING),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), unique=True
    )
    anchor_date: Mapped[dt.date] = mapped_column(Date, index=True)
    cycle_days: Mapped[int] = mapped_column(default=30)
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # False: disenrolled
    # The anchor date the scheduler last created a check-in for (None: not yet).
    checkin_anchor_date: Mapped[dt.date | None] = mapped_column(Date)
    paused_until: Mapped[dt.date | None] = mapped_column(Date)  # nothing is sent until then
    disenrolled_at: Mapped[dt.datetime | None]
    disenroll_reason: Mapped[str | None] = mapped_column(String(200))
    # The patient's own check-in form; None: the store's.
    checkin_form: Mapped[CheckinForm | None] = mapped_column(_enum(CheckinForm, "checkin_form"))
    costs_note: Mapped[str | None] = mapped_column(Text)  # costs discussed at enrollment
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    patient: Mapped[Patient] = relationship(back_populates="enrollment")


class Checkin(Base):
    """One check-in per enrollment and anchor date; the scheduler's unit of work."""

    __tablename__ = "checkins"
    __table_args__ = (
        UniqueConstraint("enrollment_id", "anchor_date"),
        # The scheduler sweeps open check-ins by their next attempt time.
        Index("ix_checkins_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_checkins_anchor_date", "anchor_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    anchor_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[CheckinStatus] = mapped_column(
        _enum(CheckinStatus, "checkin_status"), default=CheckinStatus.SCHEDULED
    )
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"), default=Channel.SMS)
    next_attempt_at: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_outreach_at: Mapped[dt.datetime | None]
    claimed_until: Mapped[dt.datetime | None]  # a scheduler pass holds it until then
    # The pass holding it: a claim whose pass stopped beating (killed) is free at once.
    claimed_by: Mapped[int | None] = mapped_column(
        ForeignKey("scheduler_passes.id", ondelete="SET NULL")
    )
    # The check-in summary (SPEC 6): topic -> "reported" / "none" / "unanswered"; None until
    # the patient first answers.
    topics: Mapped[dict[str, Any] | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    completed_at: Mapped[dt.datetime | None]

    patient: Mapped[Patient] = relationship()
    enrollment: Mapped[Enrollment] = relationship()
    store: Mapped[Store] = relationship()


class SchedulerPass(Base):
    """A scheduler pass while it runs: it beats every few seconds (wall clock); a pass that
    stopped beating was killed, and the check-ins it claimed are free at once."""

    __tablename__ = "scheduler_passes"

    id: Mapped[int] = mapped_column(primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    beat_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class Conversation(Base):
    """The dialog state of one check-in (or one inbound call), versioned for safe updates."""

    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_patient_id_done", "patient_id", "done"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    checkin_id: Mapped[int | None] = mapped_column(
        ForeignKey("checkins.id", ondelete="CASCADE"), index=True
    )
    dialog: Mapped[str] = mapped_column(String(40))
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"))
    node: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(default=1)  # bumped by conversations.save_state
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Message(Base):
    """Every inbound and outbound text, call and recording: the append-only transcript."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_patient_id_created_at", "patient_id", "created_at"),
        Index("ix_messages_checkin_id", "checkin_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    checkin_id: Mapped[int | None] = mapped_column(ForeignKey("checkins.id", ondelete="SET NULL"))
    direction: Mapped[Direction] = mapped_column(_enum(Direction, "direction"))
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"))
    purpose: Mapped[Purpose | None] = mapped_column(_enum(Purpose, "purpose"))
    from_number: Mapped[str] = mapped_column(String(20))
    to_number: Mapped[str] = mapped_column(String(20))
    body: Mapped[str | None] = mapped_column(Text)
    recording_url: Mapped[str | None] = mapped_column(String(500))
    twilio_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    error_code: Mapped[int | None]
    sequence_number: Mapped[int | None]  # last call-progress event applied
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


ACTIVE_ITEMS = "status IN ('open', 'claimed')"


class QueueItem(Base):
    """Something a pharmacist or technician must look at before the fill."""

    __tablename__ = "queue_items"
    __table_args__ = (
        # A store's items by status (resolved lists, the API's ?status=), anchor date, priority.
        Index(
            "ix_queue_items_store_status_anchor", "store_id", "status", "anchor_date", "priority"
        ),
        # The queue page: a store's open and claimed items already in queue order (high
        # priority first, then the soonest fill). Partial, so
        # resolved items (most of the table, in time) are not in it and the first page reads
        # fifty index entries, not every active item.
        Index(
            "ix_queue_items_active_order",
            "store_id",
            "priority",
            "anchor_date",
            "created_at",
            "id",
            postgresql_where=text(ACTIVE_ITEMS),
            sqlite_where=text(ACTIVE_ITEMS),
        ),
        # Counts per kind from the index alone.
        Index("ix_queue_items_store_status_kind", "store_id", "status", "kind"),
        Index("ix_queue_items_checkin_id", "checkin_id"),
        Index("ix_queue_items_patient_id", "patient_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    checkin_id: Mapped[int | None] = mapped_column(ForeignKey("checkins.id", ondelete="SET NULL"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    kind: Mapped[QueueKind] = mapped_column(_enum(QueueKind, "queue_kind"))
    priority: Mapped[int] = mapped_column(default=int(Priority.NORMAL))
    status: Mapped[QueueStatus] = mapped_column(
        _enum(QueueStatus, "queue_status"), default=QueueStatus.OPEN
    )
    anchor_date: Mapped[dt.date | None] = mapped_column(Date)
    text: Mapped[str | None] = mapped_column(Text)
    recording_url: Mapped[str | None] = mapped_column(String(500))
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[dt.datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[dt.datetime | None]
    resolution_note: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(40))
    # Why the patient's words became this kind of item ("read as ... because it says ...").
    reason: Mapped[str | None] = mapped_column(String(300))
    # renewal_needed: the medicine, when the request went to the prescriber and the answer.
    medicine_id: Mapped[int | None] = mapped_column(
        ForeignKey("medicines.id", ondelete="SET NULL"), index=True
    )
    renewal_sent_at: Mapped[dt.datetime | None]
    renewal_answer: Mapped[RenewalAnswer | None] = mapped_column(
        _enum(RenewalAnswer, "renewal_answer")
    )
    renewal_refills: Mapped[int | None]
    # not_picked_up: the fill that waited.
    fill_id: Mapped[int | None] = mapped_column(ForeignKey("fills.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    patient: Mapped[Patient | None] = relationship()
    store: Mapped[Store] = relationship()
    checkin: Mapped[Checkin | None] = relationship()
    claimed_by: Mapped[User | None] = relationship(foreign_keys=[claimed_by_id])


class Fill(Base):
    """One patient's fill for one anchor date, as staff work it on the fill day (SPEC 13).

    Created when staff first act on the row of the fill-day list (until then the row is
    `to_prepare` by definition); one per enrollment and anchor date.
    """

    __tablename__ = "fills"
    __table_args__ = (
        UniqueConstraint("enrollment_id", "anchor_date"),
        Index("ix_fills_store_id_anchor_date", "store_id", "anchor_date"),
        Index("ix_fills_state_ready_at", "state", "ready_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"))
    checkin_id: Mapped[int | None] = mapped_column(ForeignKey("checkins.id", ondelete="SET NULL"))
    anchor_date: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[FillState] = mapped_column(
        _enum(FillState, "fill_state"), default=FillState.TO_PREPARE
    )
    delivery: Mapped[Delivery] = mapped_column(_enum(Delivery, "delivery"), default=Delivery.PICKUP)
    note: Mapped[str | None] = mapped_column(Text)
    ready_at: Mapped[dt.datetime | None]
    # Claimed (conditional UPDATE) when the ready notice is sent, so it goes once (SPEC 13).
    ready_notice_at: Mapped[dt.datetime | None]
    pickup_reminded_at: Mapped[dt.datetime | None]
    # When the not_picked_up item was raised (claimed the same way: one item per fill).
    not_picked_up_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]  # picked up or delivered
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    patient: Mapped[Patient] = relationship()


class FollowUp(Base):
    """A service offered at enrollment that staff follow up until done (SPEC 14)."""

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    service: Mapped[Service] = mapped_column(_enum(Service, "service"))
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    done_at: Mapped[dt.datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class User(Base):
    """A staff login: pharmacist, technician or admin of one or more stores."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None]
    # Login throttling: consecutive failures, and until when the account refuses passwords.
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None]
    # Signed into every session cookie; bumping it (logout, password change, deactivation)
    # ends every session the user has, in every worker and host.
    session_version: Mapped[int] = mapped_column(default=1)

    stores: Mapped[list[Store]] = relationship(secondary=user_stores, order_by=Store.code)


class ApiToken(Base):
    """A bearer token for the JSON API, stored as a SHA-256 digest.

    Tokens are 256 random bits, not passwords, so a fast digest is the right tool here.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # shown in the UI to tell tokens apart
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()


class AuditEvent(Base):
    """Who saw or did what to whose data, and when."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_patient_id_at", "patient_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(40))  # "user", "cli", "scheduler", "twilio"
    action: Mapped[str] = mapped_column(String(60))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="SET NULL"))
    target: Mapped[str | None] = mapped_column(String(255))  # an email may be 254 characters
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
