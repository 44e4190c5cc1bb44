"""Forms of the workspace (Flask-WTF: every one carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from bot.security import password_problem
from store.staff import MAX_EMAIL_LENGTH, normalize_email

# Enough to catch typos; the login itself is the real check.
EMAIL = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="Enter an email address.")

OUTCOMES = [
    ("handled", "Handled"),
    ("profile_updated", "Profile updated"),
    ("called_patient", "Called the patient"),
    ("prescriber_contacted", "Prescriber contacted"),
    ("fill_adjusted", "Fill adjusted"),
    ("no_action", "No action needed"),
]


class LoginForm(FlaskForm):  # type: ignore[misc]
    email = EmailField("Email", validators=[DataRequired(), EMAIL, Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class EmptyForm(FlaskForm):  # type: ignore[misc]
    """A button: claim, sign out. Only the CSRF token."""


class ResolveForm(FlaskForm):  # type: ignore[misc]
    outcome = SelectField(
        "Outcome",
        choices=[SelectChoice(v, label) for v, label in OUTCOMES],
        validators=[DataRequired()],
    )
    note = TextAreaField("Note", validators=[DataRequired(), Length(max=2000)])


class TextPatientForm(FlaskForm):  # type: ignore[misc]
    body = TextAreaField("Message to the patient", validators=[DataRequired(), Length(max=300)])


def _staff_email(_form: FlaskForm, field: EmailField) -> None:
    if normalize_email(field.data or "") is None:
        raise ValidationError(f"Enter an email address of at most {MAX_EMAIL_LENGTH} characters.")


def _new_password(_form: FlaskForm, field: PasswordField) -> None:
    problem = password_problem(field.data or "")
    if problem:
        raise ValidationError(f"The password {problem}.")


class UserForm(FlaskForm):  # type: ignore[misc]
    email = EmailField("Email", validators=[DataRequired(), _staff_email])
    role = SelectField(
        "Role",
        choices=[
            SelectChoice("pharmacist", "Pharmacist"),
            SelectChoice("technician", "Technician"),
            SelectChoice("admin", "Admin"),
        ],
    )
    stores = SelectMultipleField("Stores", coerce=int, validators=[DataRequired()])
    # Required for a new login (bot/staff_admin.py); left empty, an update keeps the password.
    password = PasswordField("Password", validators=[Optional(), _new_password])


class StoreForm(FlaskForm):  # type: ignore[misc]
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    phone = StringField("Callback number", validators=[DataRequired(), Length(max=40)])
    timezone = StringField("Timezone", validators=[DataRequired(), Length(max=64)])
    window = StringField(
        "Send window",
        validators=[DataRequired(), Regexp(r"^\d\d:\d\d-\d\d:\d\d$", message="Use HH:MM-HH:MM")],
    )
    lead_days = IntegerField("Lead days", validators=[NumberRange(min=3, max=7)])


class CandidatesForm(FlaskForm):  # type: ignore[misc]
    fills = FileField("Fills export (CSV)", validators=[FileRequired()])
    start = DateField("From", validators=[DataRequired()])
    end = DateField("To", validators=[DataRequired()])
    min_meds = IntegerField("Maintenance drugs", default=3, validators=[NumberRange(min=1, max=30)])
