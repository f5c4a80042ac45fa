"""Personal data masking: what is masked, what is deliberately left alone."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from translations import privacy
from translations.privacy import mask_personal_data


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Contact me at jane.doe+returns@example.co.uk please",
                     "Contact me at [email] please", id="email"),
        pytest.param("Call +49 30 1234567 or 030/1234567", "Call [phone] or [phone]",
                     id="phone-de"),
        pytest.param("My phone: (212) 555-1234.", "My phone: [phone].", id="phone-us"),
        pytest.param("電話は090-1234-5678です", "電話は[phone]です", id="phone-ja-glued"),
        pytest.param("电话13812345678", "电话[phone]", id="phone-cn-mobile"),
        pytest.param("＋８１ ９０ １２３４ ５６７８", "[phone]", id="phone-full-width"),
        pytest.param("Card 4111 1111 1111 1111 was stolen", "Card [card] was stolen",
                     id="card-luhn"),
        pytest.param("Ship to 123 Main Street, Apt 4B, Springfield",
                     "Ship to [address], Springfield", id="address-en"),
        pytest.param("Bitte an Hauptstraße 5 senden", "Bitte an [address] senden",
                     id="address-de"),
        pytest.param("Berliner Str. 12a, 10115 Berlin", "[address], 10115 Berlin",
                     id="address-de-abbreviated"),
        pytest.param("Livrer au 12 rue de la Paix, Paris", "Livrer au [address], Paris",
                     id="address-fr"),
        pytest.param("Enviar a Calle Mayor 5, Madrid", "Enviar a [address], Madrid",
                     id="address-es"),
        pytest.param("Rua Augusta, 123, CEP 01310-100", "[address], CEP [address]",
                     id="address-pt-cep"),
        pytest.param("〒100-0001 東京都千代田区千代田1丁目1番1号", "[address] [address]",
                     id="address-ja"),
        pytest.param("北京市朝阳区建国路88号2号楼", "[address]", id="address-zh"),
        pytest.param("العنوان شارع الملك فهد 12 الرياض", "العنوان [address] الرياض",
                     id="address-ar"),
        pytest.param("London SW1A 1AA", "London [address]", id="uk-postcode"),
        pytest.param("My name is John Smith and it broke", "My name is [name] and it broke",
                     id="name-en"),
        pytest.param("Mein Name ist Anna Müller", "Mein Name ist [name]", id="name-de"),
        pytest.param("Sehr geehrte Frau Schmidt, das Paket", "Sehr geehrte Frau [name], das Paket",
                     id="name-salutation"),
        pytest.param("山田様へ、商品が破損", "[name]様へ、商品が破損", id="name-ja-honorific"),
        pytest.param("我叫王小明，商品破损", "我叫[name]，商品破损", id="name-zh"),
        pytest.param("اسمي محمد أحمد والمنتج تالف", "اسمي [name] والمنتج تالف", id="name-ar"),
    ],
)
def test_masks(text: str, expected: str) -> None:
    assert mask_personal_data(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("On 2025-03-14 I paid 1.234,56 EUR", id="date-and-amount"),
        pytest.param("Order 112-1234567-1234567 arrived broken", id="amazon-order-id"),
        pytest.param("tracking 123456789012 missing", id="bare-long-tracking-number"),
        pytest.param("The box was damaged, 3 items, size M Large", id="plain-text"),
        pytest.param("お客様へ、商品が破損しました。", id="okyakusama-is-no-name"),
        pytest.param("商品破损，请尽快处理！", id="cjk-punctuation-kept"),
        pytest.param("Card 4111 1111 1111 1112", id="card-failing-luhn-is-too-long-for-phone"),
        # Documented limits: no cue, no mask.
        pytest.param("John will pick it up at the blue house", id="uncued-name-limit"),
        pytest.param("10115 Berlin", id="bare-postcode-limit"),
    ],
)
def test_leaves_alone(text: str) -> None:
    assert mask_personal_data(text) == text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789 +-().@abcXYZ様路号丁目Str")), max_size=60))
def test_masking_is_idempotent(text: str) -> None:
    once = mask_personal_data(text)
    assert mask_personal_data(once) == once


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("IBAN DE89 3704 0044 0532 0130 00 bitte", "IBAN [iban] bitte",
                     id="de-grouped"),
        pytest.param("IBAN: DE89370400440532013000.", "IBAN: [iban].", id="de-together"),
        pytest.param("GB82 WEST 1234 5698 7654 32 BIC COBADEFFXXX", "[iban] BIC COBADEFFXXX",
                     id="gb-letters-then-a-word-in-capitals"),
        pytest.param("virement FR14 2004 1010 0505 0001 3M02 606 merci",
                     "virement [iban] merci", id="fr-letter-in-account"),
        pytest.param("NL91ABNA0417164300", "[iban]", id="nl-shortest-group-count"),
        pytest.param("Meine IBAN ist DE89 3704 0044 0532 0130 00, danke",
                     "Meine IBAN ist [iban], danke", id="followed-by-comma"),
    ],
)
def test_masks_ibans(text: str, expected: str) -> None:
    assert mask_personal_data(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Ref DE89 3704 0044 0532 0130 09", id="failing-mod-97"),
        pytest.param("SKU AB12345678901234 out of stock", id="sku-shaped-like-an-iban"),
        pytest.param("Order XX00ABCDEFGHIJKL", id="not-mod-97"),
    ],
)
def test_iban_shaped_text_that_fails_the_check_is_not_an_iban(text: str) -> None:
    assert "[iban]" not in mask_personal_data(text)


@pytest.mark.parametrize(
    ("pattern", "text", "inside"),
    [
        pytest.param(privacy._EMAIL, "jane.doe@example.com", 3, id="email-local-part"),
        pytest.param(privacy._ADDRESSES[5], "千代田123丁目", 4, id="chome-number"),
    ],
)
def test_a_match_never_starts_inside_a_run_it_already_tried(
    pattern: re.Pattern[str], text: str, inside: int
) -> None:
    """Linear time, structurally: a run of candidate characters is tried once, from its start,
    not again from each of its positions (32,000 characters used to take seconds)."""
    assert pattern.match(text) is not None
    assert pattern.match(text, inside) is None


def test_a_long_local_part_without_at_sign_is_not_an_email() -> None:
    text = "a" * 32_000
    assert privacy._EMAIL.search(text) is None
    assert mask_personal_data(text + "@example.com") == "[email]"


def test_an_address_glued_to_another_is_masked_too() -> None:
    # Found by the idempotence property: the second address only shows once the first is masked.
    assert mask_personal_data("0@0.0.@0.0") == "[email][email]"
