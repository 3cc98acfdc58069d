"""Message catalogue (fa, en) for validation errors and warnings of the persian package."""

from __future__ import annotations

from typing import Literal

Language = Literal["fa", "en"]

# Keys are stable API: forms and JSON clients map them to fields; texts may change freely.
MESSAGES: dict[str, dict[str, str]] = {
    # کد ملی
    "national_code.empty": {
        "fa": "کد ملی را وارد کنید.",
        "en": "Enter the national code.",
    },
    "national_code.not_digits": {
        "fa": "کد ملی فقط از رقم تشکیل می‌شود.",
        "en": "A national code contains digits only.",
    },
    "national_code.length": {
        "fa": "کد ملی باید ۱۰ رقم باشد.",
        "en": "A national code has 10 digits.",
    },
    "national_code.repeated": {
        "fa": "کد ملی نمی‌تواند از تکرار یک رقم ساخته شده باشد.",
        "en": "A national code cannot be one digit repeated.",
    },
    "national_code.zeros": {
        "fa": "رقم‌های چهارم تا نهم کد ملی نمی‌توانند همه صفر باشند.",
        "en": "Digits 4 to 9 of a national code cannot all be zero.",
    },
    "national_code.checksum": {
        "fa": "کد ملی معتبر نیست؛ رقم‌ها را دوباره بررسی کنید.",
        "en": "This national code is not valid; check the digits.",
    },
    "national_code.unknown_prefix": {
        "fa": "سه رقم اول این کد ملی به محل صدور شناخته‌شده‌ای تعلق ندارد؛ آن را دوباره بررسی کنید.",
        "en": "The first three digits match no known issuing office; please check the code.",
    },
    # شناسه ملی اشخاص حقوقی
    "legal_id.empty": {
        "fa": "شناسه ملی را وارد کنید.",
        "en": "Enter the legal-entity national ID.",
    },
    "legal_id.not_digits": {
        "fa": "شناسه ملی فقط از رقم تشکیل می‌شود.",
        "en": "A legal-entity national ID contains digits only.",
    },
    "legal_id.length": {
        "fa": "شناسه ملی باید ۱۱ رقم باشد.",
        "en": "A legal-entity national ID has 11 digits.",
    },
    "legal_id.zeros": {
        "fa": "رقم‌های چهارم تا نهم شناسه ملی نمی‌توانند همه صفر باشند.",
        "en": "Digits 4 to 9 of a legal-entity national ID cannot all be zero.",
    },
    "legal_id.checksum": {
        "fa": "شناسه ملی معتبر نیست؛ رقم‌ها را دوباره بررسی کنید.",
        "en": "This legal-entity national ID is not valid; check the digits.",
    },
    # تلفن همراه
    "mobile.empty": {
        "fa": "شماره تلفن همراه را وارد کنید.",
        "en": "Enter the mobile number.",
    },
    "mobile.not_digits": {
        "fa": "شماره تلفن همراه فقط از رقم تشکیل می‌شود.",
        "en": "A mobile number contains digits only.",
    },
    "mobile.prefix": {
        "fa": "شماره تلفن همراه باید با ۰۹ شروع شود.",
        "en": "An Iranian mobile number starts with 09.",
    },
    "mobile.length": {
        "fa": "شماره تلفن همراه باید ۱۱ رقم باشد و با ۰۹ شروع شود.",
        "en": "A mobile number has 11 digits starting with 09.",
    },
    "mobile.unknown_operator": {
        "fa": "پیش‌شماره این تلفن همراه در فهرست اپراتورها نیست؛ آن را دوباره بررسی کنید.",
        "en": "This prefix belongs to no known mobile operator; please check the number.",
    },
    # کد پستی
    "postal_code.empty": {
        "fa": "کد پستی را وارد کنید.",
        "en": "Enter the postal code.",
    },
    "postal_code.not_digits": {
        "fa": "کد پستی فقط از رقم تشکیل می‌شود.",
        "en": "A postal code contains digits only.",
    },
    "postal_code.length": {
        "fa": "کد پستی باید ۱۰ رقم باشد.",
        "en": "A postal code has 10 digits.",
    },
    "postal_code.unlikely": {
        "fa": "این کد پستی با الگوی کدهای پستی ایران جور نیست؛ آن را دوباره بررسی کنید.",
        "en": "This postal code does not follow the usual Iranian pattern; please check it.",
    },
    # شبا
    "iban.empty": {
        "fa": "شماره شبا را وارد کنید.",
        "en": "Enter the IBAN (Sheba number).",
    },
    "iban.country": {
        "fa": "شماره شبا باید با IR شروع شود.",
        "en": "An Iranian IBAN starts with IR.",
    },
    "iban.not_digits": {
        "fa": "پس از IR در شماره شبا فقط رقم می‌آید.",
        "en": "Only digits may follow IR in an IBAN.",
    },
    "iban.length": {
        "fa": "شماره شبا باید IR و پس از آن ۲۴ رقم باشد.",
        "en": "An Iranian IBAN is IR followed by 24 digits.",
    },
    "iban.checksum": {
        "fa": "شماره شبا معتبر نیست؛ رقم‌ها را دوباره بررسی کنید.",
        "en": "This IBAN is not valid; check the digits.",
    },
    # شناسه قبض و شناسه پرداخت
    "bill_id.empty": {
        "fa": "شناسه قبض را وارد کنید.",
        "en": "Enter the bill ID.",
    },
    "bill_id.not_digits": {
        "fa": "شناسه قبض فقط از رقم تشکیل می‌شود.",
        "en": "A bill ID contains digits only.",
    },
    "bill_id.length": {
        "fa": "شناسه قبض باید بین ۶ تا ۱۳ رقم باشد.",
        "en": "A bill ID has 6 to 13 digits.",
    },
    "bill_id.checksum": {
        "fa": "شناسه قبض معتبر نیست؛ رقم‌ها را دوباره بررسی کنید.",
        "en": "This bill ID is not valid; check the digits.",
    },
    "bill_id.type": {
        "fa": "نوع قبض از روی شناسه قبض شناخته نشد.",
        "en": "The bill ID does not carry a known bill type.",
    },
    "payment_id.empty": {
        "fa": "شناسه پرداخت را وارد کنید.",
        "en": "Enter the payment ID.",
    },
    "payment_id.not_digits": {
        "fa": "شناسه پرداخت فقط از رقم تشکیل می‌شود.",
        "en": "A payment ID contains digits only.",
    },
    "payment_id.length": {
        "fa": "شناسه پرداخت باید بین ۶ تا ۱۳ رقم باشد.",
        "en": "A payment ID has 6 to 13 digits.",
    },
    "payment_id.checksum": {
        "fa": "شناسه پرداخت با این شناسه قبض جور نیست؛ هر دو را دوباره بررسی کنید.",
        "en": "This payment ID does not match the bill ID; check both.",
    },
    # کد رهگیری
    "tracking_code.empty": {
        "fa": "کد رهگیری را وارد کنید.",
        "en": "Enter the tracking code.",
    },
    "tracking_code.not_digits": {
        "fa": "کد رهگیری فقط از رقم تشکیل می‌شود.",
        "en": "A tracking code contains digits only.",
    },
    "tracking_code.length": {
        "fa": "کد رهگیری باید ۱۲ رقم باشد.",
        "en": "A tracking code has 12 digits.",
    },
    "tracking_code.checksum": {
        "fa": "کد رهگیری معتبر نیست؛ رقم‌ها را دوباره بررسی کنید.",
        "en": "This tracking code is not valid; check the digits.",
    },
    # کد نوسازی
    "renewal_code.empty": {
        "fa": "کد نوسازی را وارد کنید.",
        "en": "Enter the renewal code.",
    },
    "renewal_code.parts": {
        "fa": "کد نوسازی باید ۷ بخش داشته باشد که با خط تیره (-) از هم جدا شده‌اند.",
        "en": "A renewal code has 7 parts separated by hyphens (-).",
    },
    "renewal_code.not_digits": {
        "fa": "هر بخش کد نوسازی باید یک عدد باشد.",
        "en": "Each part of a renewal code is a number.",
    },
    # پلاک ثبتی
    "plate.section": {
        "fa": "بخش ثبتی باید یک عدد صحیح مثبت باشد.",
        "en": "The registration section is a positive whole number.",
    },
    "plate.main_empty": {
        "fa": "پلاک اصلی را وارد کنید.",
        "en": "Enter the main plate number.",
    },
    "plate.main": {
        "fa": "پلاک اصلی باید عدد صحیح مثبت یا چند عدد جداشده با خط تیره باشد.",
        "en": "The main plate is a positive number, or several joined by hyphens.",
    },
    "plate.sub": {
        "fa": "پلاک فرعی باید عدد صحیح مثبت یا چند عدد جداشده با خط تیره باشد.",
        "en": "The subsidiary plate is a positive number, or several joined by hyphens.",
    },
    # سهم مالکیت به دانگ
    "dang.empty": {
        "fa": "سهم مالکیت (دانگ) را وارد کنید.",
        "en": "Enter the ownership share in dang.",
    },
    "dang.format": {
        "fa": "سهم مالکیت باید عدد باشد، مانند ۲ یا ۲٫۵.",
        "en": "The share must be a number, such as 2 or 2.5.",
    },
    "dang.range": {
        "fa": "سهم مالکیت باید بیشتر از صفر و حداکثر ۶ دانگ باشد.",
        "en": "The share must be more than 0 and at most 6 dang.",
    },
    "dang.precision": {
        "fa": "سهم مالکیت حداکثر دو رقم اعشار دارد.",
        "en": "The share has at most two decimal places.",
    },
    # تاریخ شمسی
    "jalali.not_number": {
        "fa": "روز، ماه و سال باید عدد باشند.",
        "en": "Day, month and year must be numbers.",
    },
    "jalali.year": {
        "fa": "سال وارد‌شده معتبر نیست.",
        "en": "The year is not valid.",
    },
    "jalali.month": {
        "fa": "ماه باید عددی از ۱ تا ۱۲ باشد.",
        "en": "The month must be from 1 to 12.",
    },
    "jalali.day": {
        "fa": "این ماه چنین روزی ندارد؛ فروردین تا شهریور ۳۱ روز، مهر تا بهمن ۳۰ روز "
        "و اسفند ۲۹ روز (در سال کبیسه ۳۰ روز) دارد.",
        "en": "This month has no such day: Farvardin to Shahrivar have 31 days, Mehr to Bahman 30, "
        "Esfand 29 (30 in a leap year).",
    },
    "jalali.leap": {
        "fa": "این سال کبیسه نیست و اسفند آن ۲۹ روز دارد.",
        "en": "This is not a leap year, so Esfand has 29 days.",
    },
    # مبلغ ریالی
    "rial.empty": {
        "fa": "مبلغ را وارد کنید.",
        "en": "Enter the amount.",
    },
    "rial.format": {
        "fa": "مبلغ باید عدد باشد؛ جداکننده هزارگان را می‌توانید بگذارید یا نگذارید.",
        "en": "The amount must be a number, with or without thousands separators.",
    },
    "rial.decimal": {
        "fa": "مبلغ ریالی اعشار ندارد؛ عدد صحیح وارد کنید.",
        "en": "Rial amounts have no decimals; enter a whole number.",
    },
    "rial.negative": {
        "fa": "مبلغ نمی‌تواند منفی باشد.",
        "en": "The amount cannot be negative.",
    },
    "rial.too_large": {
        "fa": "مبلغ بیش از اندازه بزرگ است.",
        "en": "The amount is too large.",
    },
}


class InvalidValue(ValueError):
    """A user-supplied value was rejected; `key` names the message in MESSAGES."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def language(locale: object = "fa") -> Language:
    """Reduce a locale ("fa", "en_US", a babel Locale, None) to the language we have texts for."""
    code = str(locale or "fa").replace("-", "_").split("_")[0].lower()
    return "en" if code == "en" else "fa"


def message(key: str, locale: object = "fa") -> str:
    """Return the text for a message key in the locale's language (Persian unless English)."""
    return MESSAGES[key][language(locale)]
