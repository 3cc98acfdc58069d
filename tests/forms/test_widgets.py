"""Every widget: rendered accessibly, read from posted data, validated with specific messages."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from flask_babel import force_locale
from lxml import html as lxml_html
from werkzeug.datastructures import FileStorage, MultiDict

from app.forms.definitions import FormDefinition
from app.forms.normalise import apply_action, normalise
from app.forms.rendering import render_answers, render_page
from app.forms.validation import validate

Posted = Callable[..., MultiDict[str, str]]
VALID = {
    "name": "نیک‌پور",
    "rooms": "3",
    "colour": "red",
    "agree": "yes",
    "start_date__day": "1",
    "start_date__month": "7",
    "start_date__year": "1404",
    "heirs.0.heir_name": "زهرا",
    "heirs.0.share": "6",
}


def page(form: FormDefinition, **kwargs: Any) -> Any:
    return lxml_html.fromstring(f"<div>{render_page(form, **kwargs)}</div>")


def check(
    form: FormDefinition, posted: Posted, *mappings: dict[str, Any], **fields: Any
) -> tuple[dict[str, Any], dict[str, str]]:
    data = normalise(form, posted(VALID, *mappings, **fields))
    return data, validate(form, data)


def test_the_valid_baseline_has_no_errors(widgets: FormDefinition, posted: Posted) -> None:
    data, errors = check(widgets, posted)
    assert errors == {}
    assert data["name"] == "نیک‌پور"  # ZWNJ kept inside a name
    assert data["agree"] is True
    assert data["start_date"] == "1404-07-01"


# --- text and textarea ------------------------------------------------------------------------


def test_text_normalises_arabic_letters_and_stray_zwnj(
    widgets: FormDefinition, posted: Posted
) -> None:
    data, errors = check(widgets, posted, name="  علي\u200c كريمي\u200c ")
    assert data["name"] == "علی کریمی"
    assert errors == {}


@pytest.mark.parametrize(
    ("value", "fa", "en"),
    [
        ("", "«نام» را وارد کنید.", "Enter «Name»."),
        ("   ", "«نام» را وارد کنید.", "Enter «Name»."),
        ("ن" * 21, "«نام» باید حداکثر ۲۰ نویسه باشد.", "«Name» must be 20 characters or fewer."),
    ],
)
def test_text_errors_in_both_languages(
    widgets: FormDefinition, posted: Posted, value: str, fa: str, en: str
) -> None:
    data, errors = check(widgets, posted, name=value)
    assert errors["name"] == fa
    with force_locale("en"):
        assert validate(widgets, data)["name"] == en


def test_textarea_keeps_lines_and_is_labelled(widgets: FormDefinition, posted: Posted) -> None:
    data, errors = check(widgets, posted, story="خط یک\r\n\r\n\r\n\r\nخط دو")
    assert data["story"] == "خط یک\n\nخط دو"
    root = page(widgets, data=data)
    area = root.get_element_by_id("field-story")
    assert area.tag == "textarea"
    assert root.xpath("//label[@for='field-story']")
    _data, errors = check(widgets, posted, story="x" * 201)
    assert "story" in errors


def test_script_in_a_value_is_shown_escaped_never_as_markup(
    widgets: FormDefinition, posted: Posted
) -> None:
    attack = '"><script>alert(1)</script>'
    formdata = posted(VALID, name=attack, story=attack, rooms=attack)
    data = normalise(widgets, formdata)
    markup = str(render_page(widgets, data=data, formdata=formdata, errors=validate(widgets, data)))
    assert "<script>alert(1)</script>" not in markup
    assert "&lt;script&gt;" in markup
    root = lxml_html.fromstring(f"<div>{markup}</div>")
    assert not root.xpath("//script")
    assert root.get_element_by_id("field-name").get("value") == attack  # shown as typed
    answers = str(render_answers(widgets, data))
    assert "<script>" not in answers
    assert "&lt;script&gt;" in answers


# --- numbers and money --------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "stored"), [("۱۲", 12), ("12", 12), ("٣", 3)])
def test_integer_accepts_any_digits(
    widgets: FormDefinition, posted: Posted, typed: str, stored: int
) -> None:
    data, errors = check(widgets, posted, rooms=typed)
    assert data["rooms"] == stored
    assert "rooms" not in errors


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("2.5", "«اتاق‌ها» باید عدد صحیح باشد، مانند ۱۲."),
        ("سه", "«اتاق‌ها» باید عدد صحیح باشد، مانند ۱۲."),
        ("0", "«اتاق‌ها» باید ۱ یا بیشتر باشد."),
        ("100", "«اتاق‌ها» باید ۹۹ یا کمتر باشد."),
    ],
)
def test_integer_errors(widgets: FormDefinition, posted: Posted, typed: str, message: str) -> None:
    data, errors = check(widgets, posted, rooms=typed)
    assert errors["rooms"] == message
    assert data["rooms"] == (typed if not typed.isdigit() else int(typed))


@pytest.mark.parametrize(
    ("typed", "stored"), [("۲۴۰٫۵", 240.5), ("240/50", 240.5), ("240,5", 240.5), ("240", 240)]
)
def test_decimal_reads_persian_decimal_points(
    widgets: FormDefinition, posted: Posted, typed: str, stored: float
) -> None:
    data, errors = check(widgets, posted, area=typed)
    assert data["area"] == stored
    assert "area" not in errors


@pytest.mark.parametrize("typed", ["240.505", "-1", "0", "دویست"])
def test_decimal_errors(widgets: FormDefinition, posted: Posted, typed: str) -> None:
    _data, errors = check(widgets, posted, area=typed)
    assert errors["area"].startswith("«مساحت»")


def test_money_is_stored_in_rials_and_spelled_out(widgets: FormDefinition, posted: Posted) -> None:
    data, errors = check(widgets, posted, fee="۱۲۵٬۴۰۰٬۰۰۰")
    assert data["fee"] == 125_400_000
    assert "fee" not in errors
    root = page(widgets, data=data)
    assert root.get_element_by_id("field-fee").get("value") == "125,400,000"
    assert (
        root.get_element_by_id("words-fee").text_content()
        == "یکصد و بیست و پنج میلیون و چهارصد هزار ریال"
    )
    answers = str(render_answers(widgets, data))
    assert "۱۲۵٬۴۰۰٬۰۰۰ ریال" in answers
    assert "یکصد و بیست و پنج میلیون و چهارصد هزار ریال" in answers
    with force_locale("en"):
        assert "one hundred twenty-five million four hundred thousand rials" in str(
            render_answers(widgets, data)
        )


@pytest.mark.parametrize(("typed", "key_text"), [("12.5", "اعشار"), ("-5", "منفی"), ("abc", "عدد")])
def test_money_errors_are_specific(
    widgets: FormDefinition, posted: Posted, typed: str, key_text: str
) -> None:
    data, errors = check(widgets, posted, fee=typed)
    assert key_text in errors["fee"]
    assert data["fee"] == typed


# --- choices ------------------------------------------------------------------------------------


def test_select_renders_a_labelled_select_with_the_choice_kept(
    widgets: FormDefinition, posted: Posted
) -> None:
    data, _errors = check(widgets, posted, district="d3")
    select = page(widgets, data=data).get_element_by_id("field-district")
    assert select.tag == "select"
    assert [o.get("value") for o in select.xpath(".//option[@selected]")] == ["d3"]
    _data, errors = check(widgets, posted, district="d9")
    assert errors["district"] == "یکی از گزینه‌های «منطقه» را انتخاب کنید."


def test_radios_are_a_fieldset_with_a_legend(widgets: FormDefinition, posted: Posted) -> None:
    data, _errors = check(widgets, posted)
    root = page(widgets, data=data, errors={"colour": "پیام"})
    fieldset = root.get_element_by_id("field-colour-group")
    assert fieldset.tag == "fieldset"
    assert "رنگ" in fieldset.xpath("./legend")[0].text_content()
    assert "(الزامی)" in fieldset.xpath("./legend")[0].text_content()
    assert fieldset.get("aria-describedby") == "error-colour"
    first = root.get_element_by_id("field-colour")
    assert first.get("type") == "radio"
    assert first.get("checked") is not None
    assert root.xpath("//label[@for='field-colour-2']")[0].text_content() == "آبی"
    _data, errors = check(widgets, posted, colour="green")
    assert errors["colour"] == "یکی از گزینه‌های «رنگ» را انتخاب کنید."


def test_radio_left_empty_asks_to_choose(widgets: FormDefinition, posted: Posted) -> None:
    formdata = posted(VALID)
    del formdata["colour"]
    errors = validate(widgets, normalise(widgets, formdata))
    assert errors["colour"] == "برای «رنگ» یک گزینه را انتخاب کنید."


def test_checkboxes_keep_several_choices(widgets: FormDefinition, posted: Posted) -> None:
    data, errors = check(widgets, posted, utilities=["gas", "water"])
    assert data["utilities"] == ["gas", "water"]
    assert "utilities" not in errors
    root = page(widgets, data=data)
    assert root.get_element_by_id("field-utilities").get("checked") is not None
    assert root.get_element_by_id("field-utilities-2").get("checked") is not None
    _data, errors = check(widgets, posted, utilities=["water", "oil"])
    assert "utilities" in errors
    _data, errors = check(widgets, posted, utilities=["water", "water"])
    assert errors["utilities"] == "«انشعاب‌ها» یک مورد را دو بار دارد."


def test_yes_no(widgets: FormDefinition, posted: Posted) -> None:
    data, _errors = check(widgets, posted, agree="no")
    assert data["agree"] is False
    _data, errors = check(widgets, posted, agree="maybe")
    assert errors["agree"] == "برای «موافقید؟» بله یا نه را انتخاب کنید."
    with force_locale("en"):
        assert "Yes" in str(render_answers(widgets, {"agree": True}))


# --- Jalali date --------------------------------------------------------------------------------


def test_jalali_date_is_three_labelled_inputs_in_a_fieldset(
    widgets: FormDefinition, posted: Posted
) -> None:
    data, _errors = check(widgets, posted)
    root = page(widgets, data=data)
    fieldset = root.get_element_by_id("field-start_date-group")
    assert fieldset.tag == "fieldset"
    day, month, year = (
        root.get_element_by_id(i)
        for i in ("field-start_date", "field-start_date-month", "field-start_date-year")
    )
    assert (day.get("value"), month.get("value"), year.get("value")) == ("1", "7", "1404")
    assert all(i.get("inputmode") == "numeric" for i in (day, month, year))
    assert root.xpath("//label[@for='field-start_date-year']")[0].text_content() == "سال"
    assert "سه‌شنبه ۱ مهر ۱۴۰۴" in str(render_answers(widgets, data))


def test_an_invalid_date_comes_back_as_typed_with_a_specific_message(
    widgets: FormDefinition, posted: Posted
) -> None:
    formdata = posted(VALID, start_date__day="۳۱", start_date__month="۷", start_date__year="۱۴۰۴")
    data = normalise(widgets, formdata)
    errors = validate(widgets, data)
    assert errors["start_date"].startswith("این ماه چنین روزی ندارد")
    root = page(widgets, data=data, formdata=formdata, errors=errors)
    assert root.get_element_by_id("field-start_date").get("value") == "۳۱"
    root = page(widgets, data=data, errors=errors)  # from the saved draft
    assert root.get_element_by_id("field-start_date").get("value") == "۳۱"


# --- files --------------------------------------------------------------------------------------


def upload(name: str, content: bytes, mimetype: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(content), filename=name, content_type=mimetype)


def files(**uploads: FileStorage | list[FileStorage]) -> MultiDict[str, FileStorage]:
    result: MultiDict[str, FileStorage] = MultiDict()
    for key, value in uploads.items():
        for item in value if isinstance(value, list) else [value]:
            result.add(key, item)
    return result


def test_an_accepted_file_keeps_only_its_metadata(widgets: FormDefinition, posted: Posted) -> None:
    data = normalise(
        widgets,
        posted(VALID),
        files=files(scan=upload("C:\\docs\\سند.pdf", b"%PDF-1.4 tiny", "application/pdf")),
    )
    assert data["scan"] == {"name": "سند.pdf", "type": "application/pdf", "size": 13}
    assert validate(widgets, data) == {}
    root = page(widgets, data=data)
    field = root.get_element_by_id("field-scan")
    assert field.get("type") == "file"
    assert field.get("accept") == "application/pdf,.png"
    assert "سند.pdf" in root.text_content()
    # Without a new upload the earlier file stays; "remove" drops it.
    assert normalise(widgets, posted(VALID), previous=data)["scan"]["name"] == "سند.pdf"
    assert "scan" not in normalise(widgets, posted(VALID, scan__remove="1"), previous=data)


@pytest.mark.parametrize(
    ("upload_args", "message_part"),
    [
        (("big.pdf", b"%PDF-" + b"x" * 2000, "application/pdf"), "حداکثر"),
        (("virus.exe", b"MZ\x90\x00", "application/x-msdownload"), "نوع"),
        (("fake.pdf", b"MZ\x90\x00", "application/pdf"), "نوع"),  # the bytes are not a PDF
        (("empty.pdf", b"", "application/pdf"), "خالی"),
    ],
)
def test_file_type_and_size_are_checked(
    widgets: FormDefinition, posted: Posted, upload_args: tuple[str, bytes, str], message_part: str
) -> None:
    data = normalise(widgets, posted(VALID), files=files(scan=upload(*upload_args)))
    message = validate(widgets, data)["scan"]
    assert message_part in message
    assert upload_args[0] in message


def test_several_files_each_checked(widgets: FormDefinition, posted: Posted) -> None:
    photos = [
        upload("a.png", b"\x89PNG\r\n\x1a\n....", "image/png"),
        upload("b.txt", b"hello", "text/plain"),
    ]
    data = normalise(widgets, posted(VALID), files=files(photos=photos))
    assert [p["name"] for p in data["photos"]] == ["a.png", "b.txt"]
    errors = validate(widgets, data)
    assert list(errors) == ["photos"]
    assert "b.txt" in errors["photos"]
    assert page(widgets, data=data).get_element_by_id("field-photos").get("multiple") is not None


# --- groups, plates and repeatable groups ---------------------------------------------------------


def test_group_fields_have_dotted_paths_and_a_legend(
    widgets: FormDefinition, posted: Posted
) -> None:
    data, errors = check(widgets, posted, **{"address.postal_code": "۵۱۶۶۶۱۴۷۷۶"})
    assert data["address"] == {"postal_code": "5166614776"}
    assert errors["address.city"] == "«شهر» را وارد کنید."
    root = page(widgets, data=data, errors=errors)
    assert root.get_element_by_id("field-address").tag == "fieldset"
    code = root.get_element_by_id("field-address-postal_code")
    assert code.get("name") == "address.postal_code"
    assert code.get("dir") == "ltr"
    assert code.get("inputmode") == "numeric"
    assert code.get("autocomplete") == "postal-code"
    assert root.xpath("//*[@id='error-address-city']")


def test_registry_plate_is_checked_by_part_and_shown_in_words(
    widgets: FormDefinition, posted: Posted
) -> None:
    data, errors = check(
        widgets, posted, **{"plate.section": "۳", "plate.main": "۷۲", "plate.sub": "۱۶۱۷"}
    )
    assert data["plate"] == {"section": "3", "main": "72", "sub": "1617"}
    assert errors == {}
    assert "پلاک ۱۶۱۷ فرعی از ۷۲ اصلی، بخش ۳" in str(render_answers(widgets, data))
    _data, errors = check(widgets, posted, **{"plate.section": "3", "plate.main": "72/1617"})
    assert errors["plate.main"] == "پلاک اصلی باید عدد صحیح مثبت یا چند عدد جداشده با خط تیره باشد."


def test_repeatable_group_items_and_their_errors(widgets: FormDefinition, posted: Posted) -> None:
    data, errors = check(
        widgets,
        posted,
        **{
            "heirs.0.share": "۲",
            "heirs.1.heir_name": "",
            "heirs.1.share": "9",
            "heirs.1.__item": "1",
        },
    )
    assert len(data["heirs"]) == 2
    assert errors["heirs.1.heir_name"] == "«نام وارث» را وارد کنید."
    assert errors["heirs.1.share"] == "سهم مالکیت باید بیشتر از صفر و حداکثر ۶ دانگ باشد."
    root = page(widgets, data=data, errors=errors)
    assert root.get_element_by_id("field-heirs-1-share").get("name") == "heirs.1.share"
    legends = [e.text_content().strip() for e in root.xpath("//legend[@class='repeat__legend']")]
    assert legends[:2] == ["وارث ۱", "وارث ۲"]


def test_add_and_remove_items_without_javascript(widgets: FormDefinition, posted: Posted) -> None:
    data, _errors = check(widgets, posted)
    data = apply_action(widgets, data, "add:heirs")
    data = apply_action(widgets, data, "add:heirs")
    assert len(data["heirs"]) == 3
    assert apply_action(widgets, data, "add:heirs") == data  # maxItems is 3
    root = page(widgets, data=data)
    assert root.xpath("//button[@value='add:heirs']")[0].get("hidden") is not None
    items = root.xpath("//div[@data-repeat-items]")[0]
    assert len(items.xpath(".//button[starts-with(@value, 'remove:heirs.')][not(@hidden)]")) == 3
    data = apply_action(widgets, data, "remove:heirs.0")
    assert len(data["heirs"]) == 2
    assert data["heirs"][0] == {}
    data = apply_action(widgets, {"heirs": [{"heir_name": "x"}]}, "remove:heirs.0")
    assert data["heirs"] == [{}]  # the last required item is emptied, not removed


def test_readonly_shows_earlier_answers_and_ignores_posted_ones(
    widgets: FormDefinition, posted: Posted
) -> None:
    earlier = {"earlier_decision": "<b>رد</b>"}
    data = normalise(widgets, posted(VALID, earlier_decision="changed"), previous=earlier)
    assert data["earlier_decision"] == "<b>رد</b>"
    root = page(widgets, data=data)
    block = root.get_element_by_id("field-earlier_decision")
    assert block.xpath(".//div[@class='field__value']")[0].text_content() == "<b>رد</b>"
    assert not root.xpath("//input[@name='earlier_decision']")


# --- identifier inputs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "inputmode", "autocomplete"),
    [
        ("national_code", "numeric", "off"),
        ("legal_id", "numeric", "off"),
        ("mobile", "tel", "tel-national"),
        ("iban", None, "off"),
        ("renewal_code", None, "off"),
        ("email", "email", "email"),
    ],
)
def test_identifier_inputs_are_left_to_right_with_a_fitting_keyboard(
    widgets: FormDefinition, name: str, inputmode: str | None, autocomplete: str
) -> None:
    element = page(widgets).get_element_by_id(f"field-{name}")
    assert element.get("dir") == "ltr"
    assert element.get("inputmode") == inputmode
    assert element.get("autocomplete") == autocomplete
    assert "(اختیاری)" in page(widgets).xpath(f"//label[@for='field-{name}']")[0].text_content()


def test_every_described_by_points_at_an_element(widgets: FormDefinition, posted: Posted) -> None:
    formdata = posted(name="", rooms="x", fee="-1", colour="?", **{"heirs.0.share": "8"})
    data = normalise(widgets, formdata)
    errors = validate(widgets, data)
    root = page(widgets, data=data, formdata=formdata, errors=errors)
    ids = set(root.xpath("//@id"))
    described = [i for value in root.xpath("//@aria-describedby") for i in value.split()]
    assert described
    assert set(described) <= ids
    assert [a.get("href")[1:] for a in root.xpath("//div[@id='error-summary']//a")] == [
        f"field-{p.replace('.', '-')}" for p in errors
    ]
    assert all(f"field-{p.replace('.', '-')}" in ids for p in errors)
    assert len(root.xpath("//@id")) == len(ids)  # no duplicate ids
