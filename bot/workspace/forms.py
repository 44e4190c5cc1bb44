"""Forms of the workspace (Flask-WTF: every one carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from bot.items import OUTCOMES
from bot.security import password_problem
from store.staff import MAX_EMAIL_LENGTH, normalize_email

# Enough to catch typos; the login itself is the real check.
EMAIL = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="Enter an email address.")


class LoginForm(FlaskForm):  # type: ignore[misc]
    email = EmailField("Email", validators=[DataRequired(), EMAIL, Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class EmptyForm(FlaskForm):  # type: ignore[misc]
    """A button: claim, sign out. Only the CSRF token."""


class ResolveForm(FlaskForm):  # type: ignore[misc]
    """The fields only: bot/items.py checks the outcome and the note (for the API too)."""

    outcome = SelectField(
        "Outcome",
        choices=[SelectChoice(value, label) for value, label in OUTCOMES.items()],
        validate_choice=False,
    )
    note = TextAreaField("Note")


class TextPatientForm(FlaskForm):  # type: ignore[misc]
    body = TextAreaField("Message to the patient", validators=[DataRequired(), Length(max=300)])
    # Ticked on the confirmation step, after the page warned that the text names a medicine.
    confirm_medicine_names = BooleanField("Send it with the medicine name anyway")


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


class CandidatesForm(FlaskForm):  # type: ignore[misc]
    fills = FileField("Fills export (CSV)", validators=[FileRequired()])
    start = DateField("From", validators=[DataRequired()])
    end = DateField("To", validators=[DataRequired()])
    min_meds = IntegerField("Maintenance drugs", default=3, validators=[NumberRange(min=1, max=30)])
