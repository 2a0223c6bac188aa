import itertools
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cheques import codes
from cheques.codes import ALPHABET, DAMM


def test_the_alphabet_is_crockford_base32_without_i_l_o_u():
    assert ALPHABET == "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    assert len(set(ALPHABET)) == 32
    assert not set("ILOU") & set(ALPHABET)


def test_the_damm_table_is_a_quasigroup_of_order_32():
    for row in DAMM:
        assert sorted(row) == list(range(32))
    for column in range(32):
        assert sorted(DAMM[row][column] for row in range(32)) == list(range(32))


def test_the_damm_table_is_weakly_totally_anti_symmetric_for_every_triple():
    for c, x, y in itertools.product(range(32), repeat=3):
        if x != y:
            assert DAMM[DAMM[c][x]][y] != DAMM[DAMM[c][y]][x], (c, x, y)


def test_generated_codes_have_13_characters_of_the_alphabet_and_a_valid_check():
    generated = codes.generate_codes(5000)
    assert len(generated) == 5000
    assert len(set(generated)) == 5000
    for code in generated:
        assert len(code) == 13
        assert set(code) <= set(ALPHABET)
        assert codes.is_well_formed(code)
        assert codes.has_valid_check(code)
        assert code[12] == codes.check_character(code[:12])


def test_generated_codes_use_every_character_of_the_alphabet_in_every_position():
    generated = codes.generate_codes(20000)
    for position in range(13):
        assert {code[position] for code in generated} == set(ALPHABET)


@pytest.mark.parametrize("count", [1, 2, 3, 17])
def test_small_and_odd_batches_have_the_requested_size(count):
    generated = codes.generate_codes(count)
    assert len(generated) == count
    assert all(codes.has_valid_check(code) for code in generated)


def test_the_check_character_catches_every_substitution_and_adjacent_swap_on_10000_codes():
    values = list(ALPHABET)
    for code in codes.generate_codes(10000):
        for position in range(13):
            for char in values:
                if char != code[position]:
                    altered = code[:position] + char + code[position + 1:]
                    assert not codes.has_valid_check(altered), (code, altered)
        for position in range(12):
            a, b = code[position], code[position + 1]
            if a != b:
                swapped = code[:position] + b + a + code[position + 2:]
                assert not codes.has_valid_check(swapped), (code, swapped)


def test_normalisation_ignores_case_spaces_and_hyphens_and_reads_o_i_l_as_digits():
    code = codes.generate_codes(1)[0]
    typed = codes.format_code(code).lower()
    assert codes.normalise(typed) == code
    assert codes.normalise(" 0o1i-lL ") == "001111"
    assert codes.normalise(codes.format_code(code).replace("-", " ")) == code
    assert codes.format_code(code) == f"{code[:4]}-{code[4:8]}-{code[8:12]}-{code[12]}"


def test_a_code_with_a_letter_outside_the_alphabet_is_not_well_formed():
    code = codes.generate_codes(1)[0]
    assert not codes.is_well_formed(code[:12] + "U")
    assert not codes.is_well_formed(code[:12])
    assert not codes.is_well_formed(code + "0")
    assert not codes.has_valid_check("")


def test_the_qr_url_is_absolute_and_its_signature_verifies(settings):
    settings.SITE_URL = "https://cheques.example"
    code = codes.generate_codes(1)[0]
    url = codes.qr_url(code)
    assert url.startswith(f"https://cheques.example/c/{code}?s=k1.")
    signature = url.split("?s=")[1]
    assert codes.verify_signature(code, signature)
    assert codes.verify_signature(codes.format_code(code).lower(), signature)


def test_a_forged_or_altered_signature_is_refused_without_any_query(settings, db):
    code, other = codes.generate_codes(2)
    signature = codes.sign(code)
    key_id, mac = signature.split(".")
    tampered = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    with CaptureQueriesContext(connection) as queries:
        assert not codes.verify_signature(code, f"{key_id}.{tampered}")
        assert not codes.verify_signature(other, signature)
        assert not codes.verify_signature(code, f"k9.{mac}")
        assert not codes.verify_signature(code, mac)
        assert not codes.verify_signature(code, "")
        assert not codes.verify_signature(code, None)
    assert len(queries) == 0


def test_signing_keys_rotate_the_first_signs_and_all_verify(settings):
    code = codes.generate_codes(1)[0]
    settings.CHEQUE_SIGNING_KEYS = ["k1:ancien-secret"]
    old = codes.sign(code)
    settings.CHEQUE_SIGNING_KEYS = ["k2:nouveau-secret", "k1:ancien-secret"]
    new = codes.sign(code)
    assert new.startswith("k2.")
    assert codes.verify_signature(code, old)
    assert codes.verify_signature(code, new)
    settings.CHEQUE_SIGNING_KEYS = ["k2:nouveau-secret"]
    assert not codes.verify_signature(code, old)


def test_the_fast_check_matches_the_step_by_step_damm_check():
    rng = random.Random(7)
    for _ in range(2000):
        body = "".join(rng.choice(ALPHABET) for _ in range(12))
        block_check = codes.check_character(body)
        assert codes.has_valid_check(body + block_check)
    for code in codes.generate_codes(2000):
        assert code[12] == codes.check_character(code[:12])
